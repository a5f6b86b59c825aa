using System.Text.Json;
using Kscope.Kernel.Bpf;
using Kscope.Kernel.Bpf.Loader;
using Kscope.Native;
using Kscope.Native.Bpf;

namespace Kscope.Diagnostics.Bpf;

/// <summary><c>kscope bpf load</c>: load every program of an object without attaching (as <c>bpftool prog loadall</c>).</summary>
public static class BpfLoad
{
    public sealed record LoadedProgram(string Name, ProgramType Type, uint Id, uint TranslatedBytes, uint JitedBytes, uint VerifiedInstructions, string? PinnedAt);

    public static IReadOnlyList<LoadedProgram> Run(string path, string? pinDirectory)
    {
        CollectionSpec spec = CollectionSpec.LoadObject(path);
        if (pinDirectory is not null && pinDirectory.StartsWith(Pinning.DefaultRoot, StringComparison.Ordinal))
        {
            Pinning.EnsureBpfFs();
            Directory.CreateDirectory(pinDirectory);
        }
        using Collection c = Collection.Load(spec, new CollectionOptions { PinDirectory = pinDirectory });
        var result = new List<LoadedProgram>();
        foreach ((string name, Kscope.Kernel.Bpf.Program p) in c.Programs)
        {
            BpfProgInfo info = p.Info();
            result.Add(new LoadedProgram(name, p.Type, info.Id, info.XlatedProgLen, info.JitedProgLen, info.VerifiedInsns,
                pinDirectory is null ? null : Path.Combine(pinDirectory, name)));
        }
        return result;
    }

    public static void WriteText(TextWriter o, IReadOnlyList<LoadedProgram> programs)
    {
        o.WriteLine($"{"PROGRAM",-24} {"TYPE",-16} {"ID",6} {"XLATED",8} {"JITED",8} {"VERIFIED",9}  PINNED");
        foreach (LoadedProgram p in programs)
        {
            o.WriteLine($"{p.Name,-24} {BpfProbe.KernelName(p.Type),-16} {p.Id,6} {p.TranslatedBytes,8} {p.JitedBytes,8} {p.VerifiedInstructions,9}  {p.PinnedAt ?? "-"}");
        }
    }

    public static void WriteJson(Stream stream, IReadOnlyList<LoadedProgram> programs)
    {
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteString("schema", Schema);
        w.WriteStartArray("programs");
        foreach (LoadedProgram p in programs)
        {
            w.WriteStartObject();
            w.WriteString("name", p.Name);
            w.WriteString("type", BpfProbe.KernelName(p.Type));
            w.WriteNumber("id", p.Id);
            w.WriteNumber("bytes_xlated", p.TranslatedBytes);
            w.WriteNumber("bytes_jited", p.JitedBytes);
            w.WriteNumber("verified_insns", p.VerifiedInstructions);
            if (p.PinnedAt is not null)
            {
                w.WriteString("pinned", p.PinnedAt);
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>The schema of <c>bpf load --json</c> (docs/json.md).</summary>
    public const string Schema = "kscope.bpf.load/v1";
}
