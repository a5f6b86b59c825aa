using System.Text.Json;
using Kscope.Kernel.Bpf;

namespace Kscope.Kernel.Tests.Bpf;

/// <summary>kscope's loader and feature probes against bpftool (libbpf) on the same objects and kernel.</summary>
public class BpftoolDifferentialTests
{
    public static TheoryData<string> Objects => new() { "example:hello", "test:multi", "gadget:open", "gadget:exec", "gadget:runqlat", "gadget:tcp" };

    [Theory]
    [MemberData(nameof(Objects))]
    public void LoadAll_SameProgramsTypesAndTranslatedSizesAsBpftool(string which)
    {
        Requires.Root();
        string bpftool = Requires.Tool("bpftool", "bpftool");
        string path = which.Split(':') switch
        {
            ["example", var n] => BpfObjects.Example(n),
            ["test", var n] => BpfObjects.Test(n),
            [_, var n] => Path.Combine(Tools.RepoRoot, "bpf", "gadgets", n + ".bpf.o"),
            _ => throw new ArgumentException(which),
        };
        if (!File.Exists(path))
        {
            Requires.Unmet($"{path} is missing (make -C bpf/gadgets)");
        }
        Pinning.EnsureBpfFs();
        string dir = $"/sys/fs/bpf/kscope_diff_{Environment.ProcessId}_{Path.GetFileNameWithoutExtension(path).Replace('.', '_')}";
        var theirs = new Dictionary<string, (string Type, long Xlated)>();
        try
        {
            Tools.Check(bpftool, "prog", "loadall", path, dir);
            foreach (string pin in Directory.GetFiles(dir))
            {
                using JsonDocument d = JsonDocument.Parse(Tools.Check(bpftool, "prog", "show", "pinned", pin, "-j"));
                theirs[d.RootElement.GetProperty("name").GetString()!] = (d.RootElement.GetProperty("type").GetString()!, d.RootElement.GetProperty("bytes_xlated").GetInt64());
            }
        }
        finally
        {
            if (Directory.Exists(dir))
            {
                foreach (string f in Directory.GetFiles(dir))
                {
                    File.Delete(f);
                }
                Directory.Delete(dir);
            }
        }

        using Collection c = Collection.Load(CollectionSpec.LoadObject(path));
        Assert.Equal(theirs.Count, c.Programs.Count);
        foreach ((string name, Program p) in c.Programs)
        {
            string shortName = name.Length > 15 ? name[..15] : name;
            Assert.True(theirs.TryGetValue(shortName, out var t), $"bpftool did not load '{name}'");
            Assert.Equal(t.Type, TypeName(p.Type));
            Assert.Equal(t.Xlated, p.Info().XlatedProgLen);
        }
    }

    [Fact]
    public void FeatureProbes_AgreeWithBpftool()
    {
        Requires.Root();
        string bpftool = Requires.Tool("bpftool", "bpftool");
        string text = Tools.Check(bpftool, "feature", "probe", "kernel");
        int compared = 0;
        foreach (string line in text.Split('\n'))
        {
            // "eBPF program_type kprobe is available" / "eBPF map_type ringbuf is NOT available"
            string[] w = line.Split(' ');
            if (w.Length < 5 || w[0] != "eBPF" || w[1] is not ("program_type" or "map_type"))
            {
                continue;
            }
            bool available = !line.Contains("NOT available", StringComparison.Ordinal);
            FeatureStatus ours = w[1] == "program_type"
                ? (ProgramTypeByName(w[2]) is { } pt ? Features.HasProgramType(pt) : FeatureStatus.Unknown)
                : (MapTypeByName(w[2]) is { } mt ? Features.HasMapType(mt) : FeatureStatus.Unknown);
            if (ours == FeatureStatus.Unknown)
            {
                continue; // three-valued: kscope could not test it (needs BTF types or a struct_ops target)
            }
            Assert.True(available == (ours == FeatureStatus.Present), $"{w[1]} {w[2]}: bpftool says {(available ? "available" : "NOT available")}, kscope says {ours}");
            compared++;
        }
        Assert.True(compared >= 40, $"only {compared} features compared");
        Assert.NotEqual(FeatureStatus.Unknown, Features.HasProgramType(ProgramType.Tracing));
    }

    [Fact]
    public void TracingAndLsm_WhenProbedAbsent_AttachSaysNotSupported()
    {
        Requires.Root();
        if (Features.HasProgramType(ProgramType.Tracing) == FeatureStatus.Present)
        {
            return; // covered where the kernel has trampolines
        }
        Assert.Equal(FeatureStatus.Absent, Features.HasProgramType(ProgramType.Tracing));
        Assert.Equal(FeatureStatus.Absent, Features.HasProgramType(ProgramType.Lsm));
        Assert.Equal(FeatureStatus.Absent, Features.TracingPrograms(ProgramType.Tracing, AttachType.TraceFentry, 1));
        Requires.KernelLacks("fentry/fexit/LSM programs (probe says absent, as bpftool does)");
    }

    private static string TypeName(ProgramType t) => t switch
    {
        ProgramType.Tracepoint => "tracepoint",
        ProgramType.RawTracepoint => "raw_tracepoint",
        ProgramType.Kprobe => "kprobe",
        ProgramType.PerfEvent => "perf_event",
        ProgramType.SocketFilter => "socket_filter",
        ProgramType.SchedCls => "sched_cls",
        _ => t.ToString().ToLowerInvariant(),
    };

    private static ProgramType? ProgramTypeByName(string name) =>
        Enum.GetValues<ProgramType>().Cast<ProgramType?>().FirstOrDefault(t => Snake(t!.Value.ToString()) == name);

    private static MapType? MapTypeByName(string name) =>
        Enum.GetValues<MapType>().Cast<MapType?>().FirstOrDefault(t => Snake(t!.Value.ToString()) == name);

    private static string Snake(string pascal)
    {
        var sb = new System.Text.StringBuilder();
        for (int k = 0; k < pascal.Length; k++)
        {
            char c = pascal[k];
            if (k > 0 && char.IsUpper(c) && (!char.IsUpper(pascal[k - 1]) || (k + 1 < pascal.Length && char.IsLower(pascal[k + 1]))))
            {
                sb.Append('_');
            }
            sb.Append(char.ToLowerInvariant(c));
        }
        return sb.ToString().Replace("per_cpu", "percpu").Replace("ring_buf", "ringbuf").Replace("dev_map", "devmap")
            .Replace("sock_map", "sockmap").Replace("sock_hash", "sockhash").Replace("cpu_map", "cpumap").Replace("xsk_map", "xskmap")
            .Replace("seg6_local", "seg6local").Replace("sock_array", "sockarray");
    }
}
