using System.Text.Json;
using Kscope.Formats.Elf;
using Kscope.Kernel.Bpf;
using Kscope.Kernel.Bpf.Asm;
using Kscope.Kernel.Bpf.Loader;
using Kscope.Native;

namespace Kscope.Diagnostics.Bpf;

/// <summary><c>kscope bpf objdump</c>: sections, maps, programs, relocations (CO-RE spelled out) and disassembly of an object.</summary>
public static class BpfObjdump
{
    public static void WriteText(TextWriter o, string path)
    {
        CollectionSpec spec = CollectionSpec.LoadObject(path);
        ElfFile elf = ElfFile.Parse(InputFile.ReadAllBytes(path));
        if (spec.Origin is not null && EmbeddedBpfObjects.Find(elf.Data.Span) is [var embedded])
        {
            elf = ElfFile.Parse(embedded.Slice(elf.Data));
        }
        o.WriteLine($"{path}: eBPF object{(spec.Origin is null ? "" : " " + spec.Origin)}, license \"{spec.License}\"{(spec.Btf is null ? ", no BTF" : ", BTF")}");
        o.WriteLine();
        o.WriteLine("Sections:");
        foreach (ElfSection s in elf.Sections.Where(s => s.Name.Length > 0 && !s.Name.StartsWith(".debug", StringComparison.Ordinal) && !s.Name.StartsWith(".rel.debug", StringComparison.Ordinal)))
        {
            o.WriteLine($"  [{s.Index,2}] {s.Name,-40} {s.Type,-9} {s.Size,8}");
        }
        o.WriteLine();
        o.WriteLine("Maps:");
        foreach (MapSpec m in spec.Maps.Values)
        {
            o.WriteLine($"  {m.Name,-20} {m.Type,-14} key {m.KeySize,-4} value {m.ValueSize,-6} max {m.MaxEntries,-8} flags 0x{m.Flags:x}  ({m.Section}{(m.Freeze ? ", frozen" : "")}{(m.PinByName ? ", pinned by name" : "")})");
        }
        if (spec.Variables.Count > 0)
        {
            o.WriteLine();
            o.WriteLine("Global variables:");
            foreach (VariableSpec v in spec.Variables.Values.OrderBy(v => v.MapName).ThenBy(v => v.Offset))
            {
                o.WriteLine($"  {v.Name,-24} {v.MapName}+{v.Offset} ({v.Size} bytes)");
            }
        }
        foreach (ProgramSpec p in spec.Programs.Values)
        {
            o.WriteLine();
            o.WriteLine($"Program {p.Name}: {p.Type}, section {p.SectionName}, {p.Instructions.SlotCount} instructions{(p.AttachTo is null ? "" : $", attaches to {p.AttachTo}")}");
            var refs = p.Instructions.Select((ins, i) => (ins, i)).Where(x => x.ins.Reference is not null).ToList();
            if (refs.Count > 0)
            {
                o.WriteLine("  Relocations:");
                foreach ((Instruction ins, int i) in refs)
                {
                    string kind = ins.IsFunctionCall ? "call" : ins.IsLoadFunction ? "func" : (byte)ins.Src == Pseudo.MapValue ? "map value" : "map";
                    o.WriteLine($"    insn {i,4}: {kind} {ins.Reference}");
                }
            }
            if (p.CoreRelocations is { Count: > 0 } cores && spec.Btf is { } btf)
            {
                o.WriteLine("  CO-RE relocations:");
                foreach (CoreRelocation r in cores)
                {
                    o.WriteLine($"    insn {r.InstructionIndex,4}: {CoreRelocator.Describe(btf, r)}");
                }
            }
            o.WriteLine("  Disassembly:");
            foreach (string line in Disassembler.Format(p.Instructions).TrimEnd().Split('\n'))
            {
                o.WriteLine("    " + line);
            }
        }
    }

    /// <summary>The schema of <c>bpf objdump --json</c> (docs/json.md).</summary>
    public const string Schema = "kscope.bpf.objdump/v1";

    public static void WriteJson(Stream stream, string path)
    {
        CollectionSpec spec = CollectionSpec.LoadObject(path);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteString("schema", Schema);
        w.WriteString("object", path);
        if (spec.Origin is not null)
        {
            w.WriteString("origin", spec.Origin);
        }
        w.WriteString("license", spec.License);
        w.WriteStartArray("maps");
        foreach (MapSpec m in spec.Maps.Values)
        {
            w.WriteStartObject();
            w.WriteString("name", m.Name);
            w.WriteString("type", m.Type.ToString());
            w.WriteNumber("key_size", m.KeySize);
            w.WriteNumber("value_size", m.ValueSize);
            w.WriteNumber("max_entries", m.MaxEntries);
            w.WriteNumber("flags", m.Flags);
            w.WriteString("section", m.Section);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("programs");
        foreach (ProgramSpec p in spec.Programs.Values)
        {
            w.WriteStartObject();
            w.WriteString("name", p.Name);
            w.WriteString("type", p.Type.ToString());
            w.WriteString("section", p.SectionName);
            w.WriteNumber("instructions", p.Instructions.SlotCount);
            w.WriteStartArray("core_relocations");
            foreach (CoreRelocation r in p.CoreRelocations ?? [])
            {
                w.WriteStringValue($"insn {r.InstructionIndex}: {CoreRelocator.Describe(spec.Btf!, r)}");
            }
            w.WriteEndArray();
            w.WriteStartArray("disassembly");
            foreach (Instruction i in p.Instructions)
            {
                w.WriteStringValue(Disassembler.Format(i));
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }
}
