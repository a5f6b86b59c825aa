using System.Buffers.Binary;
using Kscope.Formats.Elf;

namespace Kscope.Formats.Go;

/// <summary>
/// The Go runtime's pc-line table (pclntab): pc -> function, file:line and (Go 1.18+) the inlined
/// frames, without symbols or DWARF, so it works on stripped binaries. Every layout the Go linker has
/// written since Go 1.2: the Go 1.2-1.15 format (magic 0xfffffffb), Go 1.16-1.17 (0xfffffffa),
/// Go 1.18-1.19 (0xfffffff0) and Go 1.20+ (0xfffffff1).
/// </summary>
/// <remarks>
/// Layout (src/runtime/symtab.go, cmd/link/internal/ld/pcln.go, debug/gosym/pclntab.go), pointer
/// size P, every offset below relative to the table's first byte unless said otherwise:
/// header: magic u32, 2 zero bytes, minLC u8 (instruction quantum), ptrSize u8, then P-sized words.
/// - Go 1.2: nfunc; functab: nfunc {pc P, funcOff P}, end pc P; filetabOffset u32. Names, pc-value
///   tables and _func records are all at offsets from the table's start; filetab[0] u32 is the file
///   count, filetab[i] the offset of file i's name.
/// - Go 1.16: nfunc, nfiles, funcnameOffset, cuOffset, filetabOffset, pctabOffset, pclnOffset;
///   functab at pclnOffset: nfunc {pc P, funcOff P}, end pc P.
/// - Go 1.18+: nfunc, nfiles, textStart, funcnameOffset, cuOffset, filetabOffset, pctabOffset,
///   pclnOffset; functab at pclnOffset: nfunc {entryOff u32 (from textStart), funcOff u32}, end u32.
/// funcOff is from pclnOffset (0 in Go 1.2). _func: entry (P before 1.18, u32 entryOff after),
/// then u32 fields nameOff (from funcnameOffset), args, deferreturn, pcsp, pcfile, pcln (from
/// pctabOffset), npcdata, then from 1.16 cuOffset, from 1.20 startLine, then funcID u8, flag u8,
/// pad u8, nfuncdata u8 (Go 1.2-1.15: that slot is nfuncdata), pcdata[npcdata] u32,
/// funcdata[nfuncdata] (u32 offsets from moduledata.gofunc in 1.18+).
/// pc-value tables: pairs of zig-zag value delta and pc delta (times minLC) varints from value -1
/// at the entry, ended by a zero value delta. File names (1.16+): cutab[cuOffset + file index] is an
/// offset into filetab. Inlining (1.18+ only here): pcdata[2] is the inline tree index at a pc,
/// funcdata[3] the tree: 1.18-1.19 entries of 20 bytes {parent i16, funcID u8, pad, file i32, line
/// i32, nameOff i32, parentPc i32}, 1.20+ of 16 bytes {funcID u8, pad[3], nameOff i32, parentPc
/// i32, startLine i32}.
/// Several text sections (the Go linker splits text on ppc64 and 32-bit arm with external linking, and on
/// darwin/arm64): the 1.18+ entry offsets are then offsets in the linker's unsplit layout, and
/// moduledata.textsectmap ({vaddr, end, baseaddr} words per section, vaddr and end from textStart, baseaddr
/// where the section really is) maps them, as the runtime's textOff does; <see cref="FromElf"/> reads it.
/// In a PIE binary the words that hold addresses (1.18+: textStart; before: every functab pc and
/// _func entry) are filled in by R_*_RELATIVE relocations; <see cref="FromElf"/> applies them.
/// Every offset is checked in 64-bit arithmetic before use: a malformed table throws
/// <see cref="MalformedDataException"/> naming the offset, never reads outside the table.
/// </remarks>
public sealed class GoPclnTable
{
    private const string Format = "Go pclntab";
    public const uint Magic12 = 0xfffffffb;
    public const uint Magic116 = 0xfffffffa;
    public const uint Magic118 = 0xfffffff0;
    public const uint Magic120 = 0xfffffff1;
    private const int PcdataInlTreeIndex = 2;
    private const int FuncdataInlTree = 3;
    private const uint RX8664Relative = 8;
    private const uint RAArch64Relative = 1027;

    private readonly ReadOnlyMemory<byte> _table;
    private readonly Func<ulong, int, ReadOnlyMemory<byte>?> _readAt;
    private readonly ulong _goFunc;
    private readonly TextSection[] _textSections;
    private readonly long _funcnameOffset, _cuOffset, _filetabOffset, _pctabOffset, _pclnOffset, _funcBase;
    private readonly int _minLC, _ptrSize, _functabField;
    private readonly Dictionary<int, string> _names = [];

    private GoPclnTable(ReadOnlyMemory<byte> table, Func<ulong, int, ReadOnlyMemory<byte>?> readAt, ulong goFunc, TextSection[]? textSections = null)
    {
        _table = table;
        _readAt = readAt;
        _goFunc = goFunc;
        _textSections = textSections is { Length: > 1 } ? textSections : [];
        var r = new SpanReader(table.Span, Format);
        uint magic = r.U32();
        if (magic is not (Magic12 or Magic116 or Magic118 or Magic120))
        {
            throw r.Error(0, $"bad magic 0x{magic:x8}");
        }
        Magic = magic;
        if (r.U8() != 0 || r.U8() != 0)
        {
            throw r.Error(4, "header padding is not zero");
        }
        _minLC = r.U8();
        _ptrSize = r.U8();
        if (_minLC is not (1 or 2 or 4) || _ptrSize is not (4 or 8))
        {
            throw r.Error(6, $"bad instruction quantum {_minLC} or pointer size {_ptrSize}");
        }
        long length = table.Length;
        ulong Word(ref SpanReader rr) => _ptrSize == 8 ? rr.U64() : rr.U32();
        long Offset(ref SpanReader rr)
        {
            long at = rr.AbsoluteOffset;
            ulong v = Word(ref rr);
            return v < (ulong)length ? (long)v : throw new MalformedDataException(Format, at, $"table offset {v} outside the {length}-byte pclntab");
        }
        ulong nfunc = Word(ref r);
        if (magic == Magic12)
        {
            _functabField = _ptrSize;
            _pclnOffset = 8 + _ptrSize; // the functab follows nfunc
            _funcBase = _funcnameOffset = _pctabOffset = _cuOffset = 0;
        }
        else
        {
            Word(ref r); // nfiles
            ulong textStart = magic is Magic118 or Magic120 ? Word(ref r) : 0;
            _funcnameOffset = Offset(ref r);
            _cuOffset = Offset(ref r);
            _filetabOffset = Offset(ref r);
            _pctabOffset = Offset(ref r);
            _pclnOffset = _funcBase = Offset(ref r);
            _functabField = magic is Magic118 or Magic120 ? 4 : _ptrSize;
            TextStart = textStart;
        }
        // functab: nfunc pairs and the end entry, all inside the table.
        if (nfunc == 0 || nfunc > (ulong)(length - _pclnOffset) / (ulong)(2 * _functabField) || _pclnOffset + ((long)nfunc * 2 + 1) * _functabField > length)
        {
            throw r.Error(8, $"{nfunc} functions do not fit in the {length}-byte table");
        }
        FunctionCount = (int)nfunc;
        if (magic == Magic12)
        {
            long at = _pclnOffset + ((long)nfunc * 2 + 1) * _ptrSize;
            if (at + 4 > length)
            {
                throw r.Error(at, "file table offset outside the table");
            }
            uint fileOff = BinaryPrimitives.ReadUInt32LittleEndian(table.Span[(int)at..]);
            _filetabOffset = fileOff < (ulong)length ? fileOff : throw r.Error(at, $"file table offset {fileOff} outside the {length}-byte table");
        }
        if (magic is Magic12 or Magic116)
        {
            TextStart = FunctabPc(0);
        }
        ulong end = FunctabPc(FunctionCount);
        if (end < TextStart)
        {
            throw r.Error(_pclnOffset, $"end of text 0x{end:x} before its start 0x{TextStart:x}");
        }
        End = end;
    }

    /// <summary><see cref="Magic12"/>, <see cref="Magic116"/>, <see cref="Magic118"/> or <see cref="Magic120"/>.</summary>
    public uint Magic { get; }

    public string FormatVersion => Magic switch
    {
        Magic12 => "go1.2-1.15",
        Magic116 => "go1.16-1.17",
        Magic118 => "go1.18-1.19",
        _ => "go1.20+",
    };

    /// <summary>Start of the functions' text: the header's (Go 1.18+) or the first function's entry.</summary>
    public ulong TextStart { get; }

    /// <summary>End of the functions' text.</summary>
    public ulong End { get; }

    public int FunctionCount { get; }

    /// <summary>
    /// Text sections from moduledata.textsectmap when there are several (ppc64, 32-bit arm, darwin/arm64 external
    /// links); empty for the usual single section.
    /// </summary>
    public IReadOnlyList<TextSection> TextSections => _textSections;

    /// <summary>Instruction quantum: 1 on x86, 4 on arm64.</summary>
    public int InstructionQuantum => _minLC;

    /// <summary>Relocations applied to the table's bytes by <see cref="FromElf"/> (PIE binaries).</summary>
    public int RelocationsApplied { get; private init; }

    /// <summary>Where <see cref="FromElf"/> found the table: ".gopclntab", or "SECTION+0xOFFSET" when found by scanning.</summary>
    public string Location { get; private init; } = "";

    /// <summary>Parses a pclntab from its bytes (relocations already applied). <paramref name="readAt"/> reads (address, length) of the
    /// binary (for inline trees in go:func.*); <paramref name="goFunc"/> is moduledata.gofunc, 0 if unknown (no inlined frames then).</summary>
    public static GoPclnTable Parse(ReadOnlyMemory<byte> table, Func<ulong, int, ReadOnlyMemory<byte>?>? readAt = null, ulong goFunc = 0) =>
        new(table, readAt ?? ((_, _) => null), goFunc);

    /// <summary>
    /// Finds the pclntab of a Go ELF binary and applies the dynamic relocations inside it: the
    /// .gopclntab section, else (PIE and externally linked builds put it in .data.rel.ro or
    /// .rodata) a scan of the read-only data sections for a header that parses and whose text start,
    /// relocated, lies in an executable section. The text start is the header's, not the address of
    /// .text: cgo and external linking put C code before runtime.text. Null when the file is not a
    /// Go binary (no table found).
    /// </summary>
    public static GoPclnTable? FromElf(ElfFile elf)
    {
        ReadOnlyMemory<byte>? ReadAt(ulong address, int length)
        {
            if (length < 0 || !elf.TryGetFileOffset(address, out ulong off) || off > (ulong)elf.Data.Length || (ulong)length > (ulong)elf.Data.Length - off)
            {
                return null;
            }
            return elf.Data.Slice((int)off, length);
        }

        uint relative = elf.Machine switch
        {
            ElfMachine.X86_64 => RX8664Relative,
            ElfMachine.AArch64 => RAArch64Relative,
            _ => uint.MaxValue,
        };
        List<ElfRelocation> relocations = [];
        if (relative != uint.MaxValue && !elf.BigEndian)
        {
            foreach (ElfSection s in elf.RelocationSections)
            {
                if (s.Type == ElfSectionType.Rela && s.IsAllocated)
                {
                    foreach (ElfRelocation rel in elf.GetRelocations(s))
                    {
                        if (rel.Type == relative)
                        {
                            relocations.Add(rel);
                        }
                    }
                }
            }
        }
        relocations.Sort((a, b) => a.Offset.CompareTo(b.Offset));

        bool IsCode(ulong address)
        {
            foreach (ElfSection s in elf.Sections)
            {
                if (s.IsExecutable && s.Type != ElfSectionType.NoBits && address >= s.Address && address - s.Address < s.Size)
                {
                    return true;
                }
            }
            return false;
        }

        ulong Relocated(ulong address, ulong fileValue)
        {
            int i = FindRelocation(relocations, address);
            return i >= 0 ? (ulong)relocations[i].Addend : fileValue;
        }

        (ReadOnlyMemory<byte> Bytes, int Applied, ulong Address, string Where)? found = null;
        if (elf.GetSection(".gopclntab") is { Type: not ElfSectionType.NoBits } section && section.Data.Length >= 16)
        {
            var (bytes, applied) = Patch(section.Data, section.Address, relocations);
            found = (bytes, applied, section.Address, ".gopclntab");
        }
        else
        {
            foreach (ElfSection s in elf.Sections)
            {
                if (s.Type != ElfSectionType.ProgBits || !s.IsAllocated || s.IsExecutable || s.Data.Length < 64)
                {
                    continue;
                }
                ReadOnlySpan<byte> data = s.Data.Span;
                for (int i = 0; i + 64 <= data.Length; i += 4)
                {
                    uint magic = BinaryPrimitives.ReadUInt32LittleEndian(data[i..]);
                    if (magic is not (Magic12 or Magic116 or Magic118 or Magic120) || data[i + 4] != 0 || data[i + 5] != 0 || data[i + 6] is not (1 or 2 or 4) || data[i + 7] != 8)
                    {
                        continue;
                    }
                    // The text start (1.18+) or the first functab pc (before), relocated, must be code.
                    ulong at = s.Address + (ulong)i;
                    int word = magic switch
                    {
                        Magic118 or Magic120 => 24,
                        Magic12 => 16,
                        _ => -1,
                    };
                    if (word < 0)
                    {
                        ulong pcln = BinaryPrimitives.ReadUInt64LittleEndian(data[(i + 56)..]);
                        word = pcln < (ulong)(data.Length - i - 8) ? (int)pcln : -1;
                    }
                    if (word < 0 || !IsCode(Relocated(at + (ulong)word, BinaryPrimitives.ReadUInt64LittleEndian(data[(i + word)..]))))
                    {
                        continue;
                    }
                    var (bytes, applied) = Patch(s.Data[i..], at, relocations);
                    try
                    {
                        Parse(bytes);
                    }
                    catch (MalformedDataException)
                    {
                        continue;
                    }
                    found = (bytes, applied, at, $"{s.Name}+0x{i:x}");
                    break;
                }
                if (found is not null)
                {
                    break;
                }
            }
        }
        if (found is not { } f)
        {
            return null;
        }
        uint tableMagic = BinaryPrimitives.ReadUInt32LittleEndian(f.Bytes.Span);
        (ulong goFunc, TextSection[]? sections) = tableMagic is Magic118 or Magic120 ? FindModuleData(elf, f.Address, f.Bytes.Length, tableMagic, relocations) : (0, null);
        return new GoPclnTable(f.Bytes, ReadAt, goFunc, sections) { RelocationsApplied = f.Applied, Location = f.Where };
    }

    /// <summary>Index of the relocation at <paramref name="address"/> in the sorted list, or -1.</summary>
    private static int FindRelocation(List<ElfRelocation> sorted, ulong address)
    {
        int lo = 0, hi = sorted.Count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            ulong o = sorted[mid].Offset;
            if (o == address)
            {
                return mid;
            }
            if (o < address)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }
        return -1;
    }

    /// <summary>The bytes at <paramref name="address"/> with every RELATIVE relocation inside them applied (a copy when there is one).</summary>
    private static (ReadOnlyMemory<byte> Bytes, int Applied) Patch(ReadOnlyMemory<byte> bytes, ulong address, List<ElfRelocation> sorted)
    {
        int lo = 0, hi = sorted.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid].Offset < address)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }
        byte[]? copy = null;
        int applied = 0;
        for (int i = lo; bytes.Length >= 8 && i < sorted.Count && sorted[i].Offset - address <= (ulong)bytes.Length - 8; i++)
        {
            copy ??= bytes.ToArray();
            BinaryPrimitives.WriteUInt64LittleEndian(copy.AsSpan((int)(sorted[i].Offset - address)), (ulong)sorted[i].Addend);
            applied++;
        }
        return (copy ?? bytes, applied);
    }

    /// <summary>
    /// moduledata.gofunc and moduledata.textsectmap, found through moduledata (its first word points at the pclntab
    /// and its second, funcnametab, into it) in the data sections; in PIE binaries those words are relocated,
    /// so they are read through the relocations. (0, null) when not found (no inlined frames then).
    /// </summary>
    private static (ulong GoFunc, TextSection[]? Sections) FindModuleData(ElfFile elf, ulong pclntabAddress, int tableLength, uint magic, List<ElfRelocation> relocations)
    {
        int goFuncWord = magic == Magic120 ? 40 : 38;
        ulong end = pclntabAddress + (ulong)tableLength;

        ulong? WordAt(ulong address)
        {
            int i = FindRelocation(relocations, address);
            if (i >= 0)
            {
                return (ulong)relocations[i].Addend;
            }
            if (elf.Data.Length < 8 || !elf.TryGetFileOffset(address, out ulong off) || off > (ulong)elf.Data.Length - 8)
            {
                return null;
            }
            return BinaryPrimitives.ReadUInt64LittleEndian(elf.Data.Span[(int)off..]);
        }

        bool Plausible(ulong moduledata) =>
            WordAt(moduledata + 8) is ulong names && names >= pclntabAddress && names < end &&
            WordAt(moduledata + (ulong)goFuncWord * 8) is not null;

        // textsectmap, the slice {ptr, len, cap} right after gofunc: several entries only when the linker split text.
        (ulong, TextSection[]?) Read(ulong moduledata)
        {
            ulong goFunc = WordAt(moduledata + (ulong)goFuncWord * 8) ?? 0;
            if (WordAt(moduledata + (ulong)(goFuncWord + 1) * 8) is not ulong map || WordAt(moduledata + (ulong)(goFuncWord + 2) * 8) is not ulong count ||
                count < 2 || count > MaxTextSections)
            {
                return (goFunc, null);
            }
            var sections = new TextSection[count];
            for (int k = 0; k < (int)count; k++)
            {
                ulong at = map + (ulong)k * 24;
                if (WordAt(at) is not ulong vaddr || WordAt(at + 8) is not ulong sectionEnd || WordAt(at + 16) is not ulong baseAddress ||
                    sectionEnd < vaddr || (k > 0 && (vaddr < sections[k - 1].End || baseAddress < sections[k - 1].BaseAddress + (sections[k - 1].End - sections[k - 1].VirtualOffset))))
                {
                    return (goFunc, null); // not a textsectmap: offsets stay relative to textStart
                }
                sections[k] = new TextSection(vaddr, sectionEnd, baseAddress);
            }
            return (goFunc, sections);
        }

        // PIE: a relocation whose value is the pclntab's address marks moduledata.pcHeader.
        foreach (ElfRelocation rel in relocations)
        {
            if ((ulong)rel.Addend == pclntabAddress && Plausible(rel.Offset))
            {
                return Read(rel.Offset);
            }
        }
        Span<byte> needle = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(needle, pclntabAddress);
        foreach (ElfSection s in elf.Sections)
        {
            if (s.Type == ElfSectionType.NoBits || !s.IsAllocated || s.IsExecutable || s.Name is ".gopclntab")
            {
                continue;
            }
            ReadOnlySpan<byte> data = s.Data.Span;
            int from = 0;
            while (from < data.Length)
            {
                int i = data[from..].IndexOf(needle);
                if (i < 0)
                {
                    break;
                }
                i += from;
                from = i + 8;
                if ((i & 7) == 0 && Plausible(s.Address + (ulong)i))
                {
                    return Read(s.Address + (ulong)i);
                }
            }
        }
        return (0, null);
    }

    /// <summary>More than this many text sections is not a textsectmap (the linker splits at 2^25-2^27 bytes).</summary>
    private const ulong MaxTextSections = 4096;

    /// <summary>The runtime's textOff: an entry offset of the unsplit layout to the address where its section really is.</summary>
    private ulong TextAddress(ulong offset)
    {
        TextSection[] sections = _textSections;
        if (sections.Length == 0)
        {
            return TextStart + offset;
        }
        int lo = 0, hi = sections.Length - 1;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) >>> 1;
            if (sections[mid].VirtualOffset <= offset)
            {
                lo = mid;
            }
            else
            {
                hi = mid - 1;
            }
        }
        TextSection s = sections[lo];
        // The end entry of the functab is the last section's end (etext), included as the runtime does.
        return offset >= s.VirtualOffset && (offset < s.End || (lo == sections.Length - 1 && offset == s.End))
            ? s.BaseAddress + (offset - s.VirtualOffset)
            : TextStart + offset;
    }

    private ulong ReadWord(long at, int size)
    {
        if (at < 0 || at + size > _table.Length)
        {
            throw new MalformedDataException(Format, Math.Max(0, at), $"{size}-byte word at {at} outside the {_table.Length}-byte table");
        }
        ReadOnlySpan<byte> s = _table.Span[(int)at..];
        return size == 8 ? BinaryPrimitives.ReadUInt64LittleEndian(s) : BinaryPrimitives.ReadUInt32LittleEndian(s);
    }

    /// <summary>The absolute pc of functab entry <paramref name="i"/> (0..nfunc; nfunc is the end of text).</summary>
    private ulong FunctabPc(int i)
    {
        ulong v = ReadWord(_pclnOffset + (long)i * 2 * _functabField, _functabField);
        return _functabField == 4 && (Magic is Magic118 or Magic120) ? TextAddress(v) : v;
    }

    private long FunctabFuncOff(int i)
    {
        ulong v = ReadWord(_pclnOffset + ((long)i * 2 + 1) * _functabField, _functabField);
        long at = _funcBase + (long)Math.Min(v, (ulong)int.MaxValue);
        return v < (ulong)_table.Length && at < _table.Length ? at : throw new MalformedDataException(Format, _pclnOffset + ((long)i * 2 + 1) * _functabField, $"_func offset {v} of function {i} outside the table");
    }

    /// <summary>All functions, in address order.</summary>
    public IEnumerable<GoFunction> Functions()
    {
        for (int i = 0; i < FunctionCount; i++)
        {
            Func f = ReadFunc(FunctabFuncOff(i));
            yield return new GoFunction(Name(f.NameOff), FunctabPc(i), FunctabPc(i + 1));
        }
    }

    /// <summary>The function containing <paramref name="pc"/>, or null.</summary>
    public GoFunction? FindFunction(ulong pc)
    {
        int i = Find(pc);
        if (i < 0)
        {
            return null;
        }
        return new GoFunction(Name(ReadFunc(FunctabFuncOff(i)).NameOff), FunctabPc(i), FunctabPc(i + 1));
    }

    /// <summary>
    /// Frames at <paramref name="pc"/>, innermost (inlined callee) first; empty when pc is not Go code.
    /// The last frame is the function the pc is in, with the innermost file:line when the table has
    /// no inline tree (before Go 1.18, or moduledata not found): what debug/gosym and addr2line say.
    /// </summary>
    public IReadOnlyList<GoFrame> Lookup(ulong pc)
    {
        int i = Find(pc);
        if (i < 0)
        {
            return [];
        }
        Func f = ReadFunc(FunctabFuncOff(i));
        ulong entry = FunctabPc(i);
        var frames = new List<GoFrame>(2);
        int treeEntrySize = Magic == Magic120 ? 16 : 20;
        ulong at = pc;
        if (_goFunc != 0 && (Magic is Magic118 or Magic120) && f.InlTreeIndexTable != 0 && f.InlTreeOff is uint off && off != uint.MaxValue)
        {
            for (int depth = 0; depth < 256; depth++)
            {
                int index = PcValue(f.InlTreeIndexTable, entry, at);
                if (index < 0)
                {
                    break;
                }
                ulong address = _goFunc + off + (ulong)index * (ulong)treeEntrySize;
                ReadOnlyMemory<byte>? raw = address < _goFunc ? null : _readAt(address, treeEntrySize);
                if (raw is not { } entryBytes)
                {
                    throw new MalformedDataException(Format, (long)Math.Min(address, long.MaxValue), $"inline tree entry {index} of {Name(f.NameOff)} is outside the binary");
                }
                var r = new SpanReader(entryBytes.Span, Format);
                r.Skip(Magic == Magic120 ? 4 : 12);
                int nameOff = r.I32();
                int parentPc = r.I32();
                frames.Add(new GoFrame(Name(nameOff), File(f, entry, at), PcValue(f.PcLn, entry, at), Inlined: true));
                ulong parent = entry + (uint)parentPc;
                if (parent < entry || parent == at)
                {
                    break;
                }
                at = parent;
            }
        }
        frames.Add(new GoFrame(Name(f.NameOff), File(f, entry, at), PcValue(f.PcLn, entry, at), Inlined: false));
        return frames;
    }

    private int Find(ulong pc)
    {
        if (pc < TextStart || pc >= End)
        {
            return -1;
        }
        int lo = 0, hi = FunctionCount - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (FunctabPc(mid) <= pc)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }
        return hi;
    }

    private readonly record struct Func(int NameOff, uint PcFile, uint PcLn, uint CuOffset, uint InlTreeIndexTable, uint? InlTreeOff);

    private Func ReadFunc(long at)
    {
        var r = new SpanReader(_table.Span, Format);
        r.Position = (int)at;
        if (Magic is Magic118 or Magic120)
        {
            r.U32(); // entryOff
        }
        else
        {
            r.Skip(_ptrSize); // entry
        }
        int nameOff = r.I32();
        r.I32(); // args
        r.U32(); // deferreturn (Go 1.2-1.11: frame)
        r.U32(); // pcsp
        uint pcfile = r.U32();
        uint pcln = r.U32();
        uint npcdata = r.U32();
        uint cuOffset = 0;
        if (Magic != Magic12)
        {
            cuOffset = r.U32();
        }
        if (Magic == Magic120)
        {
            r.I32(); // startLine
        }
        uint nfuncdata = r.U32() >> 24; // funcID u8, flag u8, pad u8, nfuncdata u8 (little-endian)
        if (npcdata > 1024)
        {
            throw r.Error($"implausible npcdata {npcdata}");
        }
        uint inlIndex = 0;
        uint? inlTree = null;
        if (Magic is Magic118 or Magic120)
        {
            for (int k = 0; k < npcdata; k++)
            {
                uint v = r.U32();
                if (k == PcdataInlTreeIndex)
                {
                    inlIndex = v;
                }
            }
            for (int k = 0; k < nfuncdata; k++)
            {
                uint v = r.U32();
                if (k == FuncdataInlTree)
                {
                    inlTree = v;
                }
            }
        }
        return new Func(nameOff, pcfile, pcln, cuOffset, inlIndex, inlTree);
    }

    private string Name(int nameOff)
    {
        if (_names.TryGetValue(nameOff, out string? s))
        {
            return s;
        }
        s = CString(_funcnameOffset + (long)nameOff);
        _names[nameOff] = s;
        return s;
    }

    private string File(Func f, ulong entry, ulong pc)
    {
        int fileIndex = PcValue(f.PcFile, entry, pc);
        if (fileIndex < 0)
        {
            return "?";
        }
        if (Magic == Magic12)
        {
            // filetab[0] is the count; file i's name offset is filetab[i].
            long countAt = _filetabOffset;
            ulong count = ReadWord(countAt, 4);
            if ((ulong)fileIndex >= count || fileIndex == 0)
            {
                return "?";
            }
            return CString((long)ReadWord(_filetabOffset + (long)fileIndex * 4, 4));
        }
        long at = _cuOffset + ((long)f.CuOffset + fileIndex) * 4;
        uint fileOff = (uint)ReadWord(at, 4);
        return fileOff == uint.MaxValue ? "?" : CString(_filetabOffset + fileOff);
    }

    private string CString(long offset)
    {
        var r = new SpanReader(_table.Span, Format);
        if (offset < 0 || offset >= _table.Length)
        {
            throw r.Error(Math.Max(0, Math.Min(offset, _table.Length)), $"string offset {offset} outside the table");
        }
        return r.CString((int)offset);
    }

    /// <summary>The value of pc-value table <paramref name="tableOff"/> at <paramref name="pc"/> (-1 if none).</summary>
    private int PcValue(uint tableOff, ulong entry, ulong pc)
    {
        if (tableOff == 0)
        {
            return -1;
        }
        var r = new SpanReader(_table.Span, Format);
        long start = _pctabOffset + (long)tableOff;
        if (start >= _table.Length)
        {
            throw r.Error(_pctabOffset, $"pc-value table offset {tableOff} outside the table");
        }
        r.Position = (int)start;
        int value = -1;
        ulong cur = entry;
        bool first = true;
        for (int steps = 0; steps < 1_000_000; steps++)
        {
            ulong uvdelta = r.ULeb128();
            if (uvdelta == 0 && !first)
            {
                return -1;
            }
            first = false;
            int vdelta = (uvdelta & 1) != 0 ? ~(int)(uvdelta >> 1) : (int)(uvdelta >> 1);
            ulong pcdelta = r.ULeb128() * (ulong)_minLC;
            value += vdelta;
            cur += pcdelta;
            if (pc < cur)
            {
                return value;
            }
        }
        throw r.Error("pc-value table does not end");
    }
}

/// <summary>One entry of moduledata.textsectmap: offsets [VirtualOffset, End) of the unsplit layout live at BaseAddress.</summary>
public readonly record struct TextSection(ulong VirtualOffset, ulong End, ulong BaseAddress);
