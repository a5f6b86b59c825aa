using Kscope.Formats.Btf;
using Kscope.Kernel.Bpf;
using Kscope.Kernel.Btf;
using Kscope.Kernel.Tests.Bpf;
using Kscope.Native;
using Kscope.Native.Perf;

namespace Kscope.Kernel.Tests.Matrix;

using Kscope.Native.Bpf;

/// <summary>
/// Attach points this development host lacks (no CONFIG_KPROBES, no BPF trampolines, no BPF LSM)
/// but Debian's 5.10, 6.1 and 6.12 kernels have: they run for real in the tests/kernels guests and
/// skip here only after a probe shows the kernel lacks them.
/// </summary>
[Trait("Category", "Kernel")]
public class KernelTracingTests
{
    // Every kernel since 5.6 has it; opening a file calls it once.
    private const string OpenFunction = "do_sys_openat2";

    private static void OpenFiles(int count)
    {
        for (int i = 0; i < count; i++)
        {
            File.ReadAllBytes("/proc/self/stat");
        }
    }

    private static uint BtfId(string name, BtfKind kind)
    {
        if (!VmlinuxBtf.IsAvailable)
        {
            Requires.KernelLacks(KernelProbe.Btf, "no /sys/kernel/btf/vmlinux");
        }
        BtfType? type = VmlinuxBtf.Get().FindType(name, kind);
        Assert.True(type is not null, $"{kind} '{name}' not in /sys/kernel/btf/vmlinux");
        return (uint)type!.Id;
    }

    private static Program LoadTracing(ProgramType type, AttachType attach, uint btfId, Map counter, string name) =>
        Program.Load(new ProgramSpec
        {
            Name = name,
            Type = type,
            ExpectedAttachType = attach,
            AttachBtfId = btfId,
            Instructions = TestPrograms.Increment(counter),
        });

    /// <summary>
    /// Skips only when TestKit's own probe (a raw bpf() load and attach) shows the kernel lacks or refuses these
    /// programs; kscope's probe (<see cref="Features.TracingPrograms"/>) must say the same either way.
    /// </summary>
    private static void RequireTracing(KernelProbe probe, ProgramType type, AttachType attach, uint btfId, string what)
    {
        FeatureStatus ours = Features.TracingPrograms(type, attach, btfId);
        ProbeFinding independent = MachineProbes.Check(probe);
        if (independent.Verdict != ProbeVerdict.CouldNotTest && ours != FeatureStatus.Unknown)
        {
            Assert.True((ours == FeatureStatus.Present) == (independent.Verdict == ProbeVerdict.Present),
                $"{what}: kscope's probe says {ours}, TestKit's says {independent}");
        }
        Requires.Kernel(probe);
    }

    [Fact]
    public void Kprobe_PerfPmu_CountsEveryOpen()
    {
        Requires.Root();
        if (Features.KprobePmu() != FeatureStatus.Present)
        {
            Requires.KernelLacks(KernelProbe.KprobePmu, "Features.KprobePmu() is not Present");
        }
        using Map counter = TestPrograms.CounterMap();
        using Program p = TestPrograms.LoadCounter(ProgramType.Kprobe, counter, "kscope_kp");
        using (Link link = Attach.Kprobe(p, OpenFunction))
        {
            Assert.Equal(LinkKind.Kprobe, link.Kind);
            OpenFiles(25);
        }
        ulong seen = TestPrograms.Read(counter);
        Assert.True(seen >= 25, $"kprobe '{OpenFunction}' saw {seen} calls for 25 opens");
        OpenFiles(10);
        Assert.Equal(seen, TestPrograms.Read(counter)); // detached on Dispose
    }

    [Fact]
    public void Kretprobe_PerfPmu_CountsEveryReturn()
    {
        Requires.Root();
        if (Features.KprobePmu() != FeatureStatus.Present)
        {
            Requires.KernelLacks(KernelProbe.KprobePmu, "Features.KprobePmu() is not Present");
        }
        using Map counter = TestPrograms.CounterMap();
        using Program p = TestPrograms.LoadCounter(ProgramType.Kprobe, counter, "kscope_krp");
        using (Link link = Attach.Kprobe(p, OpenFunction, isReturn: true))
        {
            Assert.Equal(LinkKind.Kretprobe, link.Kind);
            OpenFiles(25);
        }
        Assert.True(TestPrograms.Read(counter) >= 25, $"kretprobe saw {TestPrograms.Read(counter)} returns for 25 opens");
    }

    [Fact]
    public void Kprobe_UnknownFunction_NamesIt()
    {
        Requires.Root();
        if (Features.KprobePmu() != FeatureStatus.Present)
        {
            Requires.KernelLacks(KernelProbe.KprobePmu, "Features.KprobePmu() is not Present");
        }
        using Map counter = TestPrograms.CounterMap();
        using Program p = TestPrograms.LoadCounter(ProgramType.Kprobe, counter, "kscope_kp");
        var e = Assert.ThrowsAny<KernelException>(() => Attach.Kprobe(p, "kscope_no_such_function"));
        Assert.Contains("kprobe 'kscope_no_such_function'", e.Message);
    }

    /// <summary>The legacy interface (before the kprobe PMU, 4.17): a named probe in tracefs kprobe_events, then a tracepoint perf event.</summary>
    [Fact]
    public void Kprobe_LegacyKprobeEvents_CountsEveryOpen()
    {
        Requires.Root();
        string events = Path.Combine(Kscope.Kernel.Tracing.Tracefs.Root, "kprobe_events");
        if (!File.Exists(events))
        {
            Requires.KernelLacks(KernelProbe.KprobeEvents, $"no {events}");
        }
        string name = $"kscope_legacy_{Environment.ProcessId}";
        File.AppendAllText(events, $"p:kprobes/{name} {OpenFunction}\n");
        try
        {
            ulong id = Kscope.Kernel.Tracing.Tracefs.TracepointId("kprobes", name);
            using Map counter = TestPrograms.CounterMap();
            using Program p = TestPrograms.LoadCounter(ProgramType.Kprobe, counter, "kscope_kpl");
            var attr = new PerfEventAttr { Type = PerfEvents.TypeTracepoint, Config = id, SamplePeriod = 1, WakeupEvents = 1 };
            using (SafeFd perf = PerfEvents.Open(ref attr, -1, 0, -1, 0, "perf_event_open legacy kprobe"))
            {
                PerfEvents.SetBpf(perf, p.Fd);
                PerfEvents.Enable(perf);
                OpenFiles(25);
            }
            Assert.True(TestPrograms.Read(counter) >= 25, $"legacy kprobe saw {TestPrograms.Read(counter)} calls");
        }
        finally
        {
            File.AppendAllText(events, $"-:kprobes/{name}\n");
        }
    }

    /// <summary>BPF_TRACE_KPROBE_MULTI (5.18, fprobe): one link, many functions by name.</summary>
    [Fact]
    public unsafe void KprobeMulti_TwoSymbols_CountsBoth()
    {
        Requires.Root();
        if (Features.KprobePmu() != FeatureStatus.Present)
        {
            Requires.KernelLacks(KernelProbe.KprobePmu, "Features.KprobePmu() is not Present");
        }
        BtfType? attachTypes = VmlinuxBtf.IsAvailable ? VmlinuxBtf.Get().FindType("bpf_attach_type", BtfKind.Enum) : null;
        if (attachTypes is null || !attachTypes.EnumValues.Any(v => v.Name == "BPF_TRACE_KPROBE_MULTI"))
        {
            Requires.KernelLacks(KernelProbe.KprobeMulti, "enum bpf_attach_type has no BPF_TRACE_KPROBE_MULTI");
        }
        using Map counter = TestPrograms.CounterMap();
        Program p = Program.Load(new ProgramSpec
        {
            Name = "kscope_kpm",
            Type = ProgramType.Kprobe,
            ExpectedAttachType = AttachType.TraceKprobeMulti,
            Instructions = TestPrograms.Increment(counter),
        });
        using (p)
        {
            byte[] open = Map.Utf8Z(OpenFunction);
            byte[] getpid = Map.Utf8Z(GetPidFunction());
            fixed (byte* po = open, pg = getpid)
            {
                ulong* syms = stackalloc ulong[2] { (ulong)po, (ulong)pg };
                var attr = new LinkCreateAttr
                {
                    ProgFd = (uint)p.Fd.Value,
                    AttachType = (uint)AttachType.TraceKprobeMulti,
                    KprobeMultiCnt = 2,
                    KprobeMultiSyms = (ulong)syms,
                };
                SafeFd link;
                try
                {
                    link = Bpf.LinkCreate(ref attr);
                }
                catch (KernelException e) when (e.Errno is Errno.EOPNOTSUPP or Errno.ENOTSUPP)
                {
                    p.Dispose();
                    Requires.KernelLacks(KernelProbe.KprobeMulti, $"link_create says {e.Errno}");
                    return;
                }
                using (link)
                {
                    OpenFiles(10);
                    for (int i = 0; i < 10; i++)
                    {
                        Posix.GetPid();
                    }
                }
            }
        }
        Assert.True(TestPrograms.Read(counter) >= 20, $"kprobe multi saw {TestPrograms.Read(counter)} calls for 10 opens + 10 getpids");
    }

    private static string GetPidFunction() =>
        VmlinuxBtf.IsAvailable && VmlinuxBtf.Get().FindType("__x64_sys_getpid", BtfKind.Func) is not null ? "__x64_sys_getpid" : "__do_sys_getpid";

    [Fact]
    public void Fentry_AndFexit_CountEveryOpen()
    {
        Requires.Root();
        uint id = BtfId(OpenFunction, BtfKind.Func);
        RequireTracing(KernelProbe.BpfTrampoline, ProgramType.Tracing, AttachType.TraceFentry, id, "fentry/fexit (BPF trampolines)");
        using Map entries = TestPrograms.CounterMap();
        using Map exits = TestPrograms.CounterMap();
        using Program entry = LoadTracing(ProgramType.Tracing, AttachType.TraceFentry, id, entries, "kscope_fentry");
        using Program exit = LoadTracing(ProgramType.Tracing, AttachType.TraceFexit, id, exits, "kscope_fexit");
        using (Link fentry = Attach.Tracing(entry, LinkKind.Fentry))
        using (Link fexit = Attach.Tracing(exit, LinkKind.Fexit))
        {
            Assert.NotNull(fentry.LinkFd);
            Assert.NotNull(fexit.LinkFd);
            OpenFiles(25);
        }
        Assert.True(TestPrograms.Read(entries) >= 25, $"fentry saw {TestPrograms.Read(entries)}");
        Assert.True(TestPrograms.Read(exits) >= 25, $"fexit saw {TestPrograms.Read(exits)}");
        ulong after = TestPrograms.Read(entries);
        OpenFiles(5);
        Assert.Equal(after, TestPrograms.Read(entries));
    }

    [Fact]
    public void TpBtf_SysEnter_CountsSyscalls()
    {
        Requires.Root();
        uint id = BtfId("btf_trace_sys_enter", BtfKind.Typedef);
        RequireTracing(KernelProbe.TracepointBtf, ProgramType.Tracing, AttachType.TraceRawTp, id, "tp_btf programs (BPF_TRACE_RAW_TP with a BTF target)");
        using Map counter = TestPrograms.CounterMap();
        using Program p = LoadTracing(ProgramType.Tracing, AttachType.TraceRawTp, id, counter, "kscope_tpbtf");
        using (Link link = Attach.Tracing(p, LinkKind.TracepointBtf))
        {
            for (int i = 0; i < 25; i++)
            {
                Posix.GetPid();
            }
        }
        Assert.True(TestPrograms.Read(counter) >= 25, $"tp_btf sys_enter saw {TestPrograms.Read(counter)}");
    }

    [Fact]
    public void Lsm_FileOpen_SeesOpensAndAllowsThem()
    {
        Requires.Root();
        uint id = BtfId("bpf_lsm_file_open", BtfKind.Func);
        Requires.Kernel(KernelProbe.BpfLsm); // 'bpf' among the active LSMs (securityfs mounted first), an LSM program attaches
        RequireTracing(KernelProbe.BpfLsm, ProgramType.Lsm, AttachType.LsmMac, id, "BPF LSM programs");
        using Map counter = TestPrograms.CounterMap();
        using Program p = LoadTracing(ProgramType.Lsm, AttachType.LsmMac, id, counter, "kscope_lsm");
        using (Link link = Attach.Tracing(p, LinkKind.Lsm))
        {
            OpenFiles(25); // the program returns 0: every open is allowed
        }
        Assert.True(TestPrograms.Read(counter) >= 25, $"lsm file_open saw {TestPrograms.Read(counter)}");
    }
}
