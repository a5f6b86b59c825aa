using System.Text.Json;
using Kscope.Kernel.Bpf;
using Kscope.Kernel.Bpf.Loader;

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

    /// <summary>
    /// Where bpftool says the kernel has no tracing/LSM programs, loading one (a real fentry, tp_btf and LSM
    /// target from vmlinux BTF) says "not supported by this kernel" naming the feature; where it has them,
    /// each loads and attaches (KernelTracingTests and SectionAttachTests see their events).
    /// </summary>
    [Fact]
    public void TracingAndLsm_LoadAndAttach_MatchTheProbe()
    {
        Requires.Root();
        string bpftool = Requires.Tool("bpftool", "bpftool");
        string text = Tools.Check(bpftool, "feature", "probe", "kernel");
        if (!Kscope.Kernel.Btf.VmlinuxBtf.IsAvailable)
        {
            Requires.KernelLacks(KernelProbe.Btf, "no /sys/kernel/btf/vmlinux");
        }
        var btf = Kscope.Kernel.Btf.VmlinuxBtf.Get();
        var cases = new (ProgramType Type, AttachType Attach, string Target, Kscope.Formats.Btf.BtfKind Kind, LinkKind Link, string Feature, string BpftoolName)[]
        {
            (ProgramType.Tracing, AttachType.TraceFentry, "do_sys_openat2", Kscope.Formats.Btf.BtfKind.Func, LinkKind.Fentry, "fentry", "tracing"),
            (ProgramType.Tracing, AttachType.TraceFexit, "do_sys_openat2", Kscope.Formats.Btf.BtfKind.Func, LinkKind.Fexit, "fexit", "tracing"),
            (ProgramType.Tracing, AttachType.TraceRawTp, "btf_trace_sys_enter", Kscope.Formats.Btf.BtfKind.Typedef, LinkKind.TracepointBtf, "tp_btf", "tracing"),
            (ProgramType.Lsm, AttachType.LsmMac, "bpf_lsm_file_open", Kscope.Formats.Btf.BtfKind.Func, LinkKind.Lsm, "lsm", "lsm"),
        };
        foreach (var c in cases)
        {
            bool theirs = !text.Contains($"eBPF program_type {c.BpftoolName} is NOT available", StringComparison.Ordinal);
            FeatureStatus type = Features.HasProgramType(c.Type);
            Assert.True(theirs == (type == FeatureStatus.Present), $"{c.BpftoolName}: bpftool says {(theirs ? "available" : "NOT available")}, kscope says {type}");
            using Map counter = TestPrograms.CounterMap();
            uint target = (uint)btf.FindType(c.Target, c.Kind)!.Id;
            var spec = new ProgramSpec
            {
                Name = $"kscope_{c.Feature}",
                Type = c.Type,
                ExpectedAttachType = c.Attach,
                AttachBtfId = target,
                Instructions = TestPrograms.Increment(counter),
            };
            // The type probe tries fentry; tp_btf can load where fentry cannot (this host), so each kind has its own probe.
            FeatureStatus ours = Features.TracingPrograms(c.Type, c.Attach, target);
            Assert.NotEqual(FeatureStatus.Unknown, ours);
            if (ours == FeatureStatus.Absent)
            {
                var e = Assert.Throws<Kscope.Native.KernelFeatureNotSupportedException>(() =>
                {
                    using Program p = Program.Load(spec);
                    using Link l = Attach.Tracing(p, c.Link);
                });
                Assert.Contains("not supported by this kernel", e.Message);
                Assert.Contains(c.Feature, e.Message);
                continue;
            }
            using Program p = Program.Load(spec);
            using Link link = Attach.Tracing(p, c.Link);
            Assert.NotNull(link.LinkFd);
        }
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
