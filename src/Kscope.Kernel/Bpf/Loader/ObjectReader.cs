using System.Buffers.Binary;
using Kscope.Formats;
using Kscope.Formats.Btf;
using Kscope.Formats.Elf;
using BtfTypes = Kscope.Formats.Btf.Btf;

namespace Kscope.Kernel.Bpf.Loader;

using Kscope.Kernel.Bpf.Asm;
using Kscope.Native;
using Kscope.Native.Bpf;

/// <summary>ELF eBPF object -> <see cref="CollectionSpec"/>: sections, symbols, relocations, BTF and BTF.ext.</summary>
internal static class ObjectReader
{
    private const uint R_BPF_64_64 = 1;
    private const uint R_BPF_64_32 = 10;
    private const uint BpfFRdonlyProg = 1 << 7;

    /// <summary>An array map's value_size limit (KMALLOC_MAX_SIZE, 4 MiB on x86_64 and arm64 with 4 KiB pages).</summary>
    private const ulong MaxDataSectionSize = 4 << 20;

    private sealed class Function
    {
        public required string Name;
        public required ElfSection Section;
        public required int Start;     // instruction (slot) index in the section
        public required List<Instruction> Body;
        public required List<int> Slots; // section slot index of each body instruction
    }

    public static CollectionSpec Read(byte[] bytes, string objectName)
    {
        ElfFile elf;
        try
        {
            elf = ElfFile.Parse(bytes);
        }
        catch (MalformedDataException)
        {
            throw;
        }
        if (elf.Machine != ElfMachine.Bpf)
        {
            throw new MalformedDataException("bpf object", 18, $"ELF machine {elf.Machine} is not BPF (247)");
        }
        string license = elf.GetSection("license") is { } lic ? ObjectName.Read(lic.Data.Span) : "";
        uint version = elf.GetSection("version") is { Data.Length: >= 4 } ver ? BinaryPrimitives.ReadUInt32LittleEndian(ver.Data.Span) : 0;

        BtfTypes? btf = null;
        BtfExt? ext = null;
        byte[]? kernelBtf = null;
        if (elf.GetSection(".BTF") is { } btfSection)
        {
            btf = BtfTypes.FromElf(elf);
            if (elf.GetSection(".BTF.ext") is { } extSection)
            {
                ext = BtfExt.Parse(extSection.Data, btf, (long)extSection.Offset);
            }
            kernelBtf = FixupBtf(elf, btf, btfSection);
        }

        var symbolsBySection = elf.Symbols.Where(s => s.IsDefined && s.SectionIndex < elf.Sections.Count).ToLookup(s => (int)s.SectionIndex);
        var maps = new Dictionary<string, MapSpec>(StringComparer.Ordinal);
        var mapBySymbol = new Dictionary<(int Section, ulong Value), string>();
        var variables = new Dictionary<string, VariableSpec>(StringComparer.Ordinal);
        var dataMaps = new Dictionary<int, string>();

        foreach (ElfSection section in elf.Sections)
        {
            if (section.Name == ".maps")
            {
                ReadBtfMaps(section, btf, symbolsBySection[section.Index], maps, mapBySymbol);
            }
            else if (section.Name == "maps")
            {
                ReadLegacyMaps(section, symbolsBySection[section.Index], maps, mapBySymbol);
            }
            else if (IsDataSection(section))
            {
                if (section.Size > MaxDataSectionSize)
                {
                    // Checked before anything is allocated: a 1 GiB .bss is SHT_NOBITS, 0 bytes in the file.
                    throw new MalformedDataException("bpf object", (long)section.Offset, $"section {section.Name} is {section.Size} bytes; a global data map value is at most {MaxDataSectionSize} (the kernel's KMALLOC_MAX_SIZE)");
                }
                string mapName = DataMapName(objectName, section.Name);
                bool rodata = section.Name.StartsWith(".rodata", StringComparison.Ordinal);
                byte[] contents = section.Type == ElfSectionType.NoBits ? new byte[section.Size] : section.Data.ToArray();
                int valueTypeId = btf?.FindType(section.Name, BtfKind.DataSec)?.Id ?? 0;
                maps[mapName] = new MapSpec
                {
                    Name = mapName,
                    Type = MapType.Array,
                    KeySize = 4,
                    ValueSize = (uint)Math.Max(section.Size, 1),
                    MaxEntries = 1,
                    Flags = rodata ? BpfFRdonlyProg : 0,
                    Contents = [new(new byte[4], contents.Length == 0 ? new byte[1] : contents)],
                    Freeze = rodata,
                    Section = section.Name,
                    BtfKeyTypeId = 0,
                    BtfValueTypeId = (uint)valueTypeId,
                };
                dataMaps[section.Index] = mapName;
                foreach (ElfSymbol s in symbolsBySection[section.Index])
                {
                    if (s.Type == ElfSymbolType.Object && s.Name.Length > 0)
                    {
                        int typeId = 0;
                        if (btf?.FindType(s.Name, BtfKind.Var) is { } var)
                        {
                            typeId = var.TypeId;
                        }
                        variables[s.Name] = new VariableSpec(s.Name, mapName, (uint)s.Value, (uint)s.Size, typeId);
                    }
                }
            }
        }

        // __kconfig externs: one read-only map laid out as libbpf does (see KconfigLayout).
        (List<ExternSpec> externs, uint kconfigSize) = KconfigLayout(elf, btf);
        string? kconfigMap = null;
        if (externs.Count > 0)
        {
            kconfigMap = DataMapName(objectName, ".kconfig");
            maps[kconfigMap] = new MapSpec
            {
                Name = kconfigMap,
                Type = MapType.Array,
                KeySize = 4,
                ValueSize = Math.Max(kconfigSize, 1),
                MaxEntries = 1,
                Flags = BpfFRdonlyProg,
                Freeze = true,
                Section = ".kconfig",
                BtfValueTypeId = (uint)(btf!.FindType(".kconfig", BtfKind.DataSec)?.Id ?? 0),
            };
            if (kernelBtf is not null)
            {
                FixupKconfigBtf(kernelBtf, btf, elf.GetSection(".BTF")!, externs, kconfigSize);
            }
        }
        var externByName = externs.ToDictionary(e => e.Name, StringComparer.Ordinal);

        // Functions of every executable section.
        var functions = new Dictionary<(int Section, int Start), Function>();
        var bySlot = new Dictionary<(int Section, int Slot), (Function Function, int At)>();
        var functionsByName = new Dictionary<string, Function>(StringComparer.Ordinal);
        foreach (ElfSection section in elf.Sections.Where(s => s.IsExecutable && s.Type == ElfSectionType.ProgBits && s.Size > 0))
        {
            InstructionList all = InstructionList.Decode(section.Data.Span);
            int[] slotOf = all.SlotOffsets();
            var starts = symbolsBySection[section.Index].Where(s => s.Type == ElfSymbolType.Func).OrderBy(s => s.Value).ToList();
            foreach (ElfSymbol f in starts)
            {
                // Every count and offset from the file is checked against the section before it indexes anything.
                if (f.Value % 8 != 0 || f.Value >= section.Size || f.Size > section.Size - f.Value)
                {
                    throw new MalformedDataException("bpf object", (long)section.Offset, $"function '{f.Name}' [0x{f.Value:x}, +0x{f.Size:x}) is not inside section {section.Name} ({section.Size} bytes) on an instruction boundary");
                }
                int startSlot = (int)(f.Value / 8);
                int endSlot = f.Size > 0 ? (int)((f.Value + f.Size) / 8) : (int)(section.Size / 8);
                var body = new List<Instruction>();
                var slots = new List<int>();
                for (int i = 0; i < all.Count; i++)
                {
                    if (slotOf[i] >= startSlot && slotOf[i] < endSlot)
                    {
                        body.Add(all[i]);
                        slots.Add(slotOf[i]);
                    }
                }
                if (body.Count == 0 || slots[0] != startSlot)
                {
                    throw new MalformedDataException("bpf object", (long)section.Offset + (long)f.Value, $"function '{f.Name}' does not start on an instruction of {section.Name}");
                }
                body[0] = body[0].WithSymbol(f.Name);
                var fn = new Function { Name = f.Name, Section = section, Start = startSlot, Body = body, Slots = slots };
                functions[(section.Index, startSlot)] = fn;
                functionsByName[f.Name] = fn;
                for (int k = 0; k < slots.Count; k++)
                {
                    bySlot[(section.Index, slots[k])] = (fn, k);
                }
            }
        }

        // Relocations: maps, global data, calls.
        foreach (ElfSection rel in elf.RelocationSections)
        {
            if (rel.Info >= elf.Sections.Count || !elf.Sections[(int)rel.Info].IsExecutable)
            {
                continue;
            }
            ElfSection target = elf.Sections[(int)rel.Info];
            IReadOnlyList<ElfSymbol> symbols = elf.Symbols;
            foreach (ElfRelocation r in elf.GetRelocations(rel))
            {
                long relocAt = (long)Math.Min(target.Offset + r.Offset, long.MaxValue);
                if (r.Offset % 8 != 0 || r.Offset >= target.Size || !bySlot.TryGetValue((target.Index, (int)(r.Offset / 8)), out var located))
                {
                    throw new MalformedDataException("bpf object", relocAt, $"relocation at {target.Name}+0x{r.Offset:x} is outside every function");
                }
                (Function fn, int at) = located;
                Instruction ins = fn.Body[at];
                if (r.SymbolIndex >= (uint)symbols.Count)
                {
                    throw new MalformedDataException("bpf object", (long)rel.Offset, $"relocation at {target.Name}+0x{r.Offset:x}: symbol index {r.SymbolIndex} outside .symtab ({symbols.Count} symbols)");
                }
                ElfSymbol sym = symbols[(int)r.SymbolIndex];
                if (!sym.IsDefined)
                {
                    if (ins.IsLoadImm64 && kconfigMap is not null && externByName.TryGetValue(sym.Name, out ExternSpec? kconfigVar))
                    {
                        long offset = kconfigVar.Offset + (int)ins.Constant;
                        fn.Body[at] = (ins with { Src = (Register)Pseudo.MapValue, Constant = offset << 32 }).WithReference(kconfigMap);
                        continue;
                    }
                    string where = btf?.FindType(".ksyms", BtfKind.DataSec) is { } ksyms && ksyms.SecInfos.Any(v => btf.GetName(v.TypeId) == sym.Name) ? "a __ksym extern (kernel symbol or kfunc)" : "an extern kscope cannot resolve";
                    throw new NotSupportedException($"program section '{target.Name}' (function {fn.Name}): '{sym.Name}' is {where}; kscope's loader resolves __kconfig externs only");
                }
                int symSection = sym.SectionIndex;
                if ((uint)symSection >= (uint)elf.Sections.Count)
                {
                    // SHN_ABS (0xfff1), SHN_COMMON (0xfff2) and other reserved indexes are not sections.
                    throw new MalformedDataException("bpf object", relocAt, $"relocation at {target.Name}+0x{r.Offset:x}: symbol '{sym.Name}' has section index 0x{symSection:x}, not a section of this object ({elf.Sections.Count})");
                }
                ElfSection owner = elf.Sections[symSection];
                if (ins.IsLoadImm64 && mapBySymbol.TryGetValue((symSection, sym.Value), out string? mapName))
                {
                    fn.Body[at] = (ins with { Src = (Register)Pseudo.MapFd, Constant = 0 }).WithReference(mapName);
                }
                else if (ins.IsLoadImm64 && dataMaps.TryGetValue(symSection, out string? dataMap))
                {
                    long offset = (long)sym.Value + (int)ins.Constant;
                    fn.Body[at] = (ins with { Src = (Register)Pseudo.MapValue, Constant = offset << 32 }).WithReference(dataMap);
                }
                else if (owner.IsExecutable && (ins.IsCall || ins.IsLoadImm64))
                {
                    long targetSlot = ins.IsCall
                        ? (long)(sym.Value / 8) + ins.Constant + 1
                        : (long)(sym.Value / 8) + (ins.Constant / 8);
                    if (!functions.TryGetValue((symSection, (int)targetSlot), out Function? callee))
                    {
                        throw new MalformedDataException("bpf object", (long)(target.Offset + r.Offset), $"call from {fn.Name} to {owner.Name}+{targetSlot * 8} does not start a function");
                    }
                    fn.Body[at] = ins.IsCall
                        ? (ins with { Src = (Register)Pseudo.Call, Constant = -1 }).WithReference(callee.Name)
                        : (ins with { Src = (Register)Pseudo.Func, Constant = -1 }).WithReference(callee.Name);
                }
                else if (r.Type is R_BPF_64_64 or R_BPF_64_32)
                {
                    throw new MalformedDataException("bpf object", (long)(target.Offset + r.Offset), $"{fn.Name}: unsupported relocation to '{sym.Name}' in {owner.Name}");
                }
            }
        }
        // Local calls without relocations (pc-relative calls inside one section).
        foreach (Function fn in functions.Values)
        {
            for (int i = 0; i < fn.Body.Count; i++)
            {
                Instruction ins = fn.Body[i];
                if ((ins.IsFunctionCall || ins.IsLoadFunction) && ins.Reference is null)
                {
                    int targetSlot = fn.Slots[i] + (int)ins.Constant + 1;
                    if (functions.TryGetValue((fn.Section.Index, targetSlot), out Function? callee))
                    {
                        fn.Body[i] = (ins with { Constant = -1 }).WithReference(callee.Name);
                    }
                }
            }
        }

        // Programs: functions of program sections, each with its reachable subprograms appended.
        var strings = btf is null ? null : StringOffsets(elf);
        var programs = new Dictionary<string, ProgramSpec>(StringComparer.Ordinal);
        foreach (Function entry in functions.Values.Where(f => f.Section.Name != ".text").OrderBy(f => f.Section.Index).ThenBy(f => f.Start))
        {
            if (SectionTypes.Classify(entry.Section.Name) is not { } kind)
            {
                continue;
            }
            var order = new List<Function> { entry };
            for (int k = 0; k < order.Count; k++)
            {
                foreach (Instruction ins in order[k].Body)
                {
                    if ((ins.IsFunctionCall || ins.IsLoadFunction) && ins.Reference is { } callee &&
                        functionsByName.TryGetValue(callee, out Function? f) && !order.Contains(f))
                    {
                        order.Add(f);
                    }
                }
            }
            var list = new InstructionList();
            var index = new Dictionary<(int Section, int Slot), int>();
            foreach (Function f in order)
            {
                for (int i = 0; i < f.Body.Count; i++)
                {
                    index[(f.Section.Index, f.Slots[i])] = list.Count;
                    list.Add(f.Body[i]);
                }
            }
            var funcInfos = new List<FuncInfoRecord>();
            var lineInfos = new List<LineInfoRecord>();
            var cores = new List<CoreRelocation>();
            if (ext is not null)
            {
                foreach (Function f in order)
                {
                    foreach (BtfExtSection<BtfFuncInfo> s in ext.FuncInfos.Where(s => s.SectionName == f.Section.Name))
                    {
                        foreach (BtfFuncInfo fi in s.Records)
                        {
                            if (fi.InstructionOffset / 8 == (uint)f.Start)
                            {
                                funcInfos.Add(new FuncInfoRecord(index[(f.Section.Index, f.Start)], fi.TypeId));
                            }
                        }
                    }
                    foreach (BtfExtSection<BtfLineInfo> s in ext.LineInfos.Where(s => s.SectionName == f.Section.Name))
                    {
                        foreach (BtfLineInfo li in s.Records)
                        {
                            if (Owns(f, li.InstructionOffset) && index.TryGetValue((f.Section.Index, (int)(li.InstructionOffset / 8)), out int at))
                            {
                                lineInfos.Add(new LineInfoRecord(at, Offset(strings!, li.FileName), Offset(strings!, li.Line), li.LineNumber, li.Column, li.Line, li.FileName));
                                list[at] = list[at] with { SourceLine = $"{li.Line.Trim()} @ {Path.GetFileName(li.FileName)}:{li.LineNumber}" };
                            }
                        }
                    }
                    foreach (BtfExtSection<BtfCoreRelocation> s in ext.CoreRelocations.Where(s => s.SectionName == f.Section.Name))
                    {
                        foreach (BtfCoreRelocation cr in s.Records)
                        {
                            int slot = (int)(cr.InstructionOffset / 8);
                            if (Owns(f, cr.InstructionOffset))
                            {
                                cores.Add(new CoreRelocation(index[(f.Section.Index, slot)], cr.TypeId, cr.AccessString, cr.Kind));
                            }
                        }
                    }
                }
                funcInfos.Sort((a, b) => a.InstructionIndex.CompareTo(b.InstructionIndex));
                lineInfos.Sort((a, b) => a.InstructionIndex.CompareTo(b.InstructionIndex));
            }
            list.Link();

            bool Owns(Function f, uint instructionOffset) =>
                bySlot.TryGetValue((f.Section.Index, (int)(instructionOffset / 8)), out var o) && o.Function == f;
            programs[entry.Name] = new ProgramSpec
            {
                Name = entry.Name,
                Type = kind.Type,
                ExpectedAttachType = kind.Attach,
                AttachTo = kind.AttachTo,
                SectionName = entry.Section.Name,
                LinkKind = kind.Link,
                IsReturnProbe = kind.IsReturn,
                Instructions = list,
                License = license,
                KernelVersion = version,
                FuncInfos = funcInfos.Count > 0 ? funcInfos : null,
                LineInfos = lineInfos.Count > 0 ? lineInfos : null,
                CoreRelocations = cores.Count > 0 ? cores : null,
            };
        }
        return new CollectionSpec(objectName, maps, programs, variables, btf, kernelBtf, license, version) { Externs = externs };
    }

    /// <summary>
    /// The VARs of the <c>.kconfig</c> DATASEC, placed as libbpf places them: by descending alignment, then
    /// ascending size, then name; each at the next offset aligned for it. The map value is as long as the
    /// last one's end.
    /// </summary>
    private static (List<ExternSpec> Externs, uint Size) KconfigLayout(ElfFile elf, BtfTypes? btf)
    {
        var result = new List<ExternSpec>();
        if (btf?.FindType(".kconfig", BtfKind.DataSec) is not { } sec)
        {
            return (result, 0);
        }
        var weak = elf.Symbols.Where(s => !s.IsDefined && s.Binding == ElfSymbolBinding.Weak).Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        var vars = sec.SecInfos.Select(v => btf.GetType(v.TypeId))
            .Select(v => (v.Name, v.TypeId, Align: Math.Max(btf.AlignOf(v.TypeId), 1), Size: (uint)btf.SizeOf(v.TypeId)))
            .OrderByDescending(v => v.Align).ThenBy(v => v.Size).ThenBy(v => v.Name, StringComparer.Ordinal);
        uint offset = 0;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var v in vars)
        {
            if (!seen.Add(v.Name))
            {
                throw new MalformedDataException("bpf object", btf.OffsetOf(v.TypeId), $".kconfig declares '{v.Name}' twice");
            }
            offset = (offset + (uint)v.Align - 1) / (uint)v.Align * (uint)v.Align;
            result.Add(new ExternSpec(v.Name, offset, v.Size, weak.Contains(v.Name), v.TypeId));
            offset += v.Size;
        }
        return (result, offset);
    }

    /// <summary>
    /// The kernel refuses VARs with extern linkage: give the .kconfig DATASEC its size, its VARs their
    /// offsets (secinfos sorted by offset, as the kernel requires) and global-allocated linkage.
    /// </summary>
    private static void FixupKconfigBtf(byte[] raw, BtfTypes btf, ElfSection btfSection, List<ExternSpec> externs, uint size)
    {
        BtfType sec = btf.FindType(".kconfig", BtfKind.DataSec)!;
        int at = (int)(btf.OffsetOf(sec.Id) - (long)btfSection.Offset);
        BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(at + 8), size);
        var byName = externs.ToDictionary(e => e.Name, StringComparer.Ordinal);
        var infos = sec.SecInfos.Select(v => (v.TypeId, Ext: byName[btf.GetName(v.TypeId)])).OrderBy(v => v.Ext.Offset).ToList();
        for (int i = 0; i < infos.Count; i++)
        {
            Span<byte> entry = raw.AsSpan(at + 12 + (i * 12), 12);
            BinaryPrimitives.WriteUInt32LittleEndian(entry, (uint)infos[i].TypeId);
            BinaryPrimitives.WriteUInt32LittleEndian(entry[4..], infos[i].Ext.Offset);
            BinaryPrimitives.WriteUInt32LittleEndian(entry[8..], infos[i].Ext.Size);
            int var = (int)(btf.OffsetOf(infos[i].TypeId) - (long)btfSection.Offset);
            BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(var + 12), (uint)BtfLinkage.Global);
        }
    }

    private static bool IsDataSection(ElfSection s) =>
        (s.Name.StartsWith(".rodata", StringComparison.Ordinal) || s.Name.StartsWith(".data", StringComparison.Ordinal) || s.Name.StartsWith(".bss", StringComparison.Ordinal))
        && s.Type is ElfSectionType.ProgBits or ElfSectionType.NoBits && s.IsAllocated && s.Size > 0;

    /// <summary>libbpf's naming: up to 8 characters of the object name, then the section name, at most 15 characters.</summary>
    internal static string DataMapName(string objectName, string section)
    {
        int prefix = Math.Min(ObjectName.Length - section.Length - 1, objectName.Length);
        string name = (prefix > 0 ? objectName[..prefix] : "") + section;
        return new string(name.Take(ObjectName.Length - 1).Select(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' ? c : '_').ToArray());
    }

    private static void ReadBtfMaps(ElfSection section, BtfTypes? btf, IEnumerable<ElfSymbol> symbols, Dictionary<string, MapSpec> maps, Dictionary<(int, ulong), string> bySymbol)
    {
        if (btf is null)
        {
            throw new MalformedDataException("bpf object", (long)section.Offset, ".maps needs BTF (compile with -g)");
        }
        foreach (ElfSymbol s in symbols.Where(s => s.Type == ElfSymbolType.Object))
        {
            BtfType var = btf.FindType(s.Name, BtfKind.Var) ?? throw new MalformedDataException("bpf object", (long)section.Offset, $"map '{s.Name}' has no BTF VAR");
            MapSpec spec = MapFromBtf(btf, s.Name, var.TypeId, section.Name);
            maps[s.Name] = spec;
            bySymbol[(section.Index, s.Value)] = s.Name;
        }
    }

    private static MapSpec MapFromBtf(BtfTypes btf, string name, int typeId, string section, int depth = 0)
    {
        if (depth > 1)
        {
            // A map-in-map's inner map is a plain map (libbpf: one level); a "values" that leads back to itself would recurse forever.
            throw new MalformedDataException("bpf object", btf.OffsetOf(typeId), $"map '{name}': inner map definitions nest deeper than one level");
        }
        BtfType def = btf.ResolveType(typeId);
        if (def.Kind != BtfKind.Struct)
        {
            throw new MalformedDataException("bpf object", btf.OffsetOf(typeId), $"map '{name}' is not a struct in BTF");
        }
        uint type = 0, keySize = 0, valueSize = 0, maxEntries = 0, flags = 0, pinning = 0;
        uint keyType = 0, valueType = 0;
        MapSpec? inner = null;
        foreach (BtfMember m in def.Members)
        {
            switch (m.Name)
            {
                case "type": type = UIntFromPtr(btf, m.TypeId); break;
                case "max_entries": maxEntries = UIntFromPtr(btf, m.TypeId); break;
                case "map_flags": flags = UIntFromPtr(btf, m.TypeId); break;
                case "key_size": keySize = UIntFromPtr(btf, m.TypeId); break;
                case "value_size": valueSize = UIntFromPtr(btf, m.TypeId); break;
                case "pinning": pinning = UIntFromPtr(btf, m.TypeId); break;
                case "key":
                    keyType = (uint)PointerTarget(btf, m.TypeId);
                    keySize = (uint)btf.SizeOf((int)keyType);
                    break;
                case "value":
                    valueType = (uint)PointerTarget(btf, m.TypeId);
                    valueSize = (uint)btf.SizeOf((int)valueType);
                    break;
                case "values":
                {
                    BtfType arr = btf.ResolveType(m.TypeId);
                    if (arr.Kind == BtfKind.Array)
                    {
                        int innerDef = PointerTarget(btf, arr.Array.ElementTypeId);
                        inner = MapFromBtf(btf, name + ".inner", innerDef, section, depth + 1);
                        valueSize = 4;
                    }
                    break;
                }
            }
        }
        return new MapSpec
        {
            Name = name,
            Type = (MapType)type,
            KeySize = keySize,
            ValueSize = valueSize,
            MaxEntries = maxEntries,
            Flags = flags,
            PinByName = pinning == 1,
            BtfKeyTypeId = keyType,
            BtfValueTypeId = valueType,
            Section = section,
            InnerMap = inner,
        };
    }

    /// <summary>__uint(name, N) is "int (*name)[N]": a pointer to an array of N.</summary>
    private static uint UIntFromPtr(BtfTypes btf, int typeId)
    {
        BtfType ptr = btf.ResolveType(typeId);
        BtfType arr = btf.ResolveType(ptr.TypeId);
        return arr.Kind == BtfKind.Array ? arr.Array.Count : 0;
    }

    private static int PointerTarget(BtfTypes btf, int typeId) => btf.ResolveType(typeId).TypeId;

    private static void ReadLegacyMaps(ElfSection section, IEnumerable<ElfSymbol> symbols, Dictionary<string, MapSpec> maps, Dictionary<(int, ulong), string> bySymbol)
    {
        ReadOnlySpan<byte> data = section.Data.Span;
        foreach (ElfSymbol s in symbols.Where(s => s.Name.Length > 0 && s.Type != ElfSymbolType.Section))
        {
            if (data.Length < 20 || s.Value > (ulong)data.Length - 20)
            {
                throw new MalformedDataException("bpf object", (long)(section.Offset + s.Value), $"legacy map '{s.Name}' is truncated");
            }
            ReadOnlySpan<byte> d = data[(int)s.Value..];
            maps[s.Name] = new MapSpec
            {
                Name = s.Name,
                Type = (MapType)BinaryPrimitives.ReadUInt32LittleEndian(d),
                KeySize = BinaryPrimitives.ReadUInt32LittleEndian(d[4..]),
                ValueSize = BinaryPrimitives.ReadUInt32LittleEndian(d[8..]),
                MaxEntries = BinaryPrimitives.ReadUInt32LittleEndian(d[12..]),
                Flags = BinaryPrimitives.ReadUInt32LittleEndian(d[16..]),
                Section = section.Name,
            };
            bySymbol[(section.Index, s.Value)] = s.Name;
        }
    }

    /// <summary>
    /// clang leaves DATASEC sizes and variable offsets at 0 in objects; the kernel wants them filled in
    /// from the ELF sections and symbols (as libbpf does). Patches a copy of the raw .BTF bytes in place.
    /// </summary>
    private static byte[] FixupBtf(ElfFile elf, BtfTypes btf, ElfSection btfSection)
    {
        byte[] raw = btfSection.Data.ToArray();
        var symbols = elf.Symbols.Where(s => s.IsDefined).GroupBy(s => s.Name).ToDictionary(g => g.Key, g => g.First());
        foreach (int id in btf.OwnTypeIds)
        {
            if (btf.GetKind(id) != BtfKind.DataSec)
            {
                continue;
            }
            BtfType sec = btf.GetType(id);
            int at = (int)(btf.OffsetOf(id) - (long)btfSection.Offset);
            if (elf.GetSection(sec.Name) is { } s)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(at + 8), (uint)s.Size);
            }
            for (int i = 0; i < sec.SecInfos.Count; i++)
            {
                BtfVarSecInfo vsi = sec.SecInfos[i];
                string varName = btf.GetName(vsi.TypeId);
                if (symbols.TryGetValue(varName, out ElfSymbol? sym))
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(at + 12 + (i * 12) + 4), (uint)sym.Value);
                }
            }
        }
        return raw;
    }

    /// <summary>string -> offset in the object's BTF string table (line info must carry offsets the kernel resolves in the BTF we load).</summary>
    private static Dictionary<string, uint> StringOffsets(ElfFile elf)
    {
        ReadOnlySpan<byte> raw = elf.GetSection(".BTF")!.Data.Span;
        uint hdrLen = BinaryPrimitives.ReadUInt32LittleEndian(raw[4..]);
        uint strOff = BinaryPrimitives.ReadUInt32LittleEndian(raw[16..]);
        uint strLen = BinaryPrimitives.ReadUInt32LittleEndian(raw[20..]);
        ReadOnlySpan<byte> strings = raw.Slice((int)(hdrLen + strOff), (int)strLen);
        var map = new Dictionary<string, uint>(StringComparer.Ordinal);
        int start = 0;
        for (int i = 0; i < strings.Length; i++)
        {
            if (strings[i] == 0)
            {
                map.TryAdd(System.Text.Encoding.UTF8.GetString(strings[start..i]), (uint)start);
                start = i + 1;
            }
        }
        return map;
    }

    private static uint Offset(Dictionary<string, uint> strings, string s) => strings.TryGetValue(s, out uint o) ? o : 0;
}
