using System.Diagnostics;
using System.Runtime.InteropServices;
using Kscope.Formats.Btf;
using Kscope.Kernel.Bpf;
using Kscope.Kernel.Bpf.Asm;
using Kscope.Kernel.Bpf.Loader;
using Kscope.Kernel.Btf;
using Kscope.Native;

namespace Kscope.Kernel.Tests.Bpf;

/// <summary>
/// attach_all.bpf.c: one program per section kind kscope attaches by name. Kinds this host has (uprobe,
/// uretprobe, perf_event) fire here; the others fire in the tests/kernels guests and, where the probe says the
/// kernel lacks them, must fail with "not supported by this kernel" naming the feature.
/// </summary>
[Trait("Category", "Kernel")]
public class SectionAttachTests
{
    private const string OpenFunction = "do_sys_openat2";

    [Fact]
    public void Classify_EverySection_TypeAttachTypeLinkKindAndTarget()
    {
        CollectionSpec spec = CollectionSpec.LoadObject(BpfObjects.AttachAll());
        string binary = UprobeTarget.SectionCopy();
        var expected = new (string Program, ProgramType Type, AttachType? Attach, LinkKind? Kind, string? Target, bool Return)[]
        {
            ("on_kprobe", ProgramType.Kprobe, null, LinkKind.Kprobe, OpenFunction, false),
            ("on_kretprobe", ProgramType.Kprobe, null, LinkKind.Kretprobe, OpenFunction, true),
            ("on_uprobe", ProgramType.Kprobe, null, LinkKind.Uprobe, binary + ":kscope_target", false),
            ("on_uretprobe", ProgramType.Kprobe, null, LinkKind.Uretprobe, binary + ":kscope_target", true),
            ("on_uprobe_offset", ProgramType.Kprobe, null, LinkKind.Uprobe, binary + ":kscope_nops+2", false),
            ("on_perf_event", ProgramType.PerfEvent, null, LinkKind.PerfEvent, null, false),
            ("on_fentry", ProgramType.Tracing, AttachType.TraceFentry, LinkKind.Fentry, OpenFunction, false),
            ("on_fexit", ProgramType.Tracing, AttachType.TraceFexit, LinkKind.Fexit, OpenFunction, true),
            ("on_tp_btf", ProgramType.Tracing, AttachType.TraceRawTp, LinkKind.TracepointBtf, "sys_enter", false),
            ("on_lsm", ProgramType.Lsm, AttachType.LsmMac, LinkKind.Lsm, "file_open", false),
            ("on_socket", ProgramType.SocketFilter, null, null, null, false),
        };
        Assert.Equal(expected.Length, spec.Programs.Count);
        foreach (var e in expected)
        {
            ProgramSpec p = spec.Programs[e.Program];
            Assert.Equal(e.Type, p.Type);
            Assert.Equal(e.Attach, p.ExpectedAttachType);
            Assert.Equal(e.Kind, p.LinkKind);
            Assert.Equal(e.Target, p.AttachTo);
            Assert.Equal(e.Return, p.IsReturnProbe);
            var c = SectionTypes.Classify(p.SectionName!);
            Assert.NotNull(c);
            Assert.Equal((e.Type, e.Attach, e.Kind, e.Return, e.Target), (c.Value.Type, c.Value.Attach, c.Value.Link, c.Value.IsReturn, c.Value.AttachTo));
            Assert.Equal(e.Kind is null, Collection.WhyNoAutomaticAttach(p) is not null);
        }
        Assert.Contains("no automatic attach point", Collection.WhyNoAutomaticAttach(spec.Programs["on_socket"]));
        Assert.Equal("49", SectionTypes.Classify("perf_event/49")!.Value.AttachTo);
        Assert.Null(SectionTypes.Classify("perf_eventx"));
        Assert.Null(SectionTypes.Classify("tcx/ingress")); // not "tc"
        Assert.Contains("names no attach point", Collection.WhyNoAutomaticAttach(new ProgramSpec
        {
            Name = "bare", Type = ProgramType.Kprobe, SectionName = "uprobe", LinkKind = LinkKind.Uprobe, Instructions = new InstructionList(),
        }));
    }

    [Fact]
    public void AttachAll_UprobeUretprobeAndSymbolPlusOffset_FireOnCalls()
    {
        Requires.Root();
        string binary = UprobeTarget.SectionCopy();
        bool offsetProbe = RuntimeInformation.ProcessArchitecture == Architecture.X64; // kscope_nops is x86-64 assembly
        var names = new HashSet<string> { "on_uprobe", "on_uretprobe" };
        if (offsetProbe)
        {
            names.Add("on_uprobe_offset");
        }
        using Collection c = Collection.Load(CollectionSpec.LoadObject(BpfObjects.AttachAll()), new CollectionOptions { Programs = names });
        IReadOnlyList<Link> links = c.AttachAll();
        Assert.Equal(names.Count, links.Count);
        Assert.Contains(links, l => l.Kind == LinkKind.Uprobe && l.Description.Contains("kscope_target", StringComparison.Ordinal));
        Assert.Contains(links, l => l.Kind == LinkKind.Uretprobe);
        Tools.Check(binary, "7");
        foreach (Link l in c.Links)
        {
            l.Dispose();
        }
        Map hits = c.Maps["hits"];
        Assert.Equal(7UL, hits.Lookup<uint, ulong>(2));
        Assert.Equal(7UL, hits.Lookup<uint, ulong>(3));
        if (offsetProbe)
        {
            Assert.Equal(7UL, hits.Lookup<uint, ulong>(9));
        }
    }

    [Fact]
    public void AttachAll_PerfEventSection_SamplesCpuClockOnEveryCpu()
    {
        Requires.Root();
        using Collection c = Collection.Load(CollectionSpec.LoadObject(BpfObjects.AttachAll()), new CollectionOptions { Programs = new HashSet<string> { "on_perf_event" } });
        Link link = Assert.Single(c.AttachAll());
        Assert.Equal(LinkKind.PerfEvent, link.Kind);
        Assert.Contains($"{Attach.DefaultSamplingFrequency} Hz", link.Description);
        Assert.Equal(OnlineCpus(), link.Parts.Count);
        Assert.All(link.Parts, p => Assert.NotNull(p.PerfEventFd));
        Map hits = c.Maps["hits"];
        var sw = Stopwatch.StartNew();
        while ((hits.Lookup<uint, ulong>(4) ?? 0) == 0 && sw.Elapsed < TimeSpan.FromSeconds(20))
        {
            // burn CPU: cpu-clock samples come from running tasks
        }
        link.Dispose();
        ulong samples = hits.Lookup<uint, ulong>(4) ?? 0;
        Assert.True(samples > 0, "no cpu-clock sample reached the perf_event program");
        Thread.Sleep(100);
        Assert.Equal(samples, hits.Lookup<uint, ulong>(4)); // every CPU's event detached
    }

    public static TheoryData<string> KernelOnly => new() { "on_kprobe", "on_kretprobe", "on_fentry", "on_fexit", "on_tp_btf", "on_lsm" };

    [Theory]
    [MemberData(nameof(KernelOnly))]
    public void AttachAll_KernelOnlyKinds_FireOrSayNotSupported(string program)
    {
        Requires.Root();
        (FeatureStatus status, string feature, uint slot, KernelProbe lacks) = Probe(program);
        CollectionSpec spec = CollectionSpec.LoadObject(BpfObjects.AttachAll());
        var options = new CollectionOptions { Programs = new HashSet<string> { program } };
        if (status == FeatureStatus.Absent)
        {
            var e = Assert.Throws<KernelFeatureNotSupportedException>(() =>
            {
                using Collection c = Collection.Load(spec, options);
                c.AttachAll();
            });
            Assert.Contains("not supported by this kernel", e.Message);
            Assert.Contains(feature, e.Message);
            Requires.KernelLacks(lacks, $"kscope's probe says absent; loading/attaching '{program}' says so: {e.Message}");
        }
        if (status == FeatureStatus.Unknown)
        {
            Requires.Unmet($"{lacks}: the probe could not decide");
        }
        using (Collection c = Collection.Load(spec, options))
        {
            Link link = Assert.Single(c.AttachAll());
            for (int i = 0; i < 25; i++)
            {
                if (program == "on_tp_btf")
                {
                    Posix.GetPid();
                }
                else
                {
                    File.ReadAllBytes("/proc/self/stat");
                }
            }
            link.Dispose();
            ulong seen = c.Maps["hits"].Lookup<uint, ulong>(slot) ?? 0;
            Assert.True(seen >= 25, $"{program} saw {seen} events for 25 calls");
        }
    }

    private static (FeatureStatus Status, string Feature, uint Slot, KernelProbe Lacks) Probe(string program)
    {
        switch (program)
        {
            case "on_kprobe":
                return (Features.KprobePmu(), $"kprobe '{OpenFunction}'", 0, KernelProbe.KprobePmu);
            case "on_kretprobe":
                return (Features.KprobePmu(), $"kretprobe '{OpenFunction}'", 1, KernelProbe.KprobePmu);
            case "on_fentry":
                return (Features.TracingPrograms(ProgramType.Tracing, AttachType.TraceFentry, BtfId(OpenFunction, BtfKind.Func)), "fentry program 'on_fentry'", 5, KernelProbe.BpfTrampoline);
            case "on_fexit":
                return (Features.TracingPrograms(ProgramType.Tracing, AttachType.TraceFexit, BtfId(OpenFunction, BtfKind.Func)), "fexit program 'on_fexit'", 6, KernelProbe.BpfTrampoline);
            case "on_tp_btf":
                return (Features.TracingPrograms(ProgramType.Tracing, AttachType.TraceRawTp, BtfId("btf_trace_sys_enter", BtfKind.Typedef)), "tp_btf program 'on_tp_btf'", 7, KernelProbe.TracepointBtf);
            default:
            {
                FeatureStatus lsm = Features.TracingPrograms(ProgramType.Lsm, AttachType.LsmMac, BtfId("bpf_lsm_file_open", BtfKind.Func));
                // LSM programs load and attach while the bpf LSM is inactive, but their hooks never run: the probe
                // (which mounts securityfs when needed) decides from the active LSM list.
                if (lsm == FeatureStatus.Present && MachineProbes.Check(KernelProbe.BpfLsm).Verdict == ProbeVerdict.Absent)
                {
                    Requires.KernelLacks(KernelProbe.BpfLsm, "LSM programs load, the bpf LSM is not active");
                }
                return (lsm, "lsm program 'on_lsm'", 8, KernelProbe.BpfLsm);
            }
        }
    }

    private static uint BtfId(string name, BtfKind kind)
    {
        if (!VmlinuxBtf.IsAvailable)
        {
            Requires.KernelLacks(KernelProbe.Btf, "no /sys/kernel/btf/vmlinux");
        }
        return (uint)(VmlinuxBtf.Get().FindType(name, kind)?.Id ?? 0);
    }

    private static int OnlineCpus()
    {
        int count = 0;
        foreach (string range in File.ReadAllText("/sys/devices/system/cpu/online").Trim().Split(','))
        {
            string[] ends = range.Split('-');
            count += ends.Length == 2 ? int.Parse(ends[1]) - int.Parse(ends[0]) + 1 : 1;
        }
        return count;
    }
}
