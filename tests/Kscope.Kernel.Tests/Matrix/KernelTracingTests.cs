using Kscope.Formats.Btf;
using Kscope.Kernel.Bpf;
using Kscope.Kernel.Btf;
using Kscope.Kernel.Tests.Bpf;
using Kscope.Native;

namespace Kscope.Kernel.Tests.Matrix;

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
            Requires.KernelLacks("BTF (/sys/kernel/btf/vmlinux)");
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
    /// Skips only when the probe shows the kernel lacks (or, as root, refuses) BPF trampoline programs
    /// while ordinary program types load.
    /// </summary>
    private static void RequireTracing(ProgramType type, AttachType attach, uint btfId, string what)
    {
        FeatureStatus status = Features.TracingPrograms(type, attach, btfId);
        if (status == FeatureStatus.Present)
        {
            return;
        }
        if (status == FeatureStatus.Absent)
        {
            Requires.KernelLacks(what);
        }
        if (Features.HasProgramType(ProgramType.Tracepoint) == FeatureStatus.Present)
        {
            Requires.KernelLacks($"{what}: the kernel refuses them with EPERM as root while tracepoint programs load");
        }
        Requires.Unmet($"{what}: the probe could not decide (no permission to load BPF programs)");
    }

    [Fact]
    public void Kprobe_PerfPmu_CountsEveryOpen()
    {
        Requires.Root();
        if (Features.KprobePmu() != FeatureStatus.Present)
        {
            Requires.KernelLacks("kprobes (no kprobe PMU in /sys/bus/event_source/devices)");
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
            Requires.KernelLacks("kprobes (no kprobe PMU in /sys/bus/event_source/devices)");
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
            Requires.KernelLacks("kprobes (no kprobe PMU in /sys/bus/event_source/devices)");
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
            Requires.KernelLacks($"kprobes ({events} missing: CONFIG_KPROBE_EVENTS)");
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
            Requires.KernelLacks("kprobes (no kprobe PMU in /sys/bus/event_source/devices)");
        }
        BtfType? attachTypes = VmlinuxBtf.IsAvailable ? VmlinuxBtf.Get().FindType("bpf_attach_type", BtfKind.Enum) : null;
        if (attachTypes is null || !attachTypes.EnumValues.Any(v => v.Name == "BPF_TRACE_KPROBE_MULTI"))
        {
            Requires.KernelLacks("kprobe multi links (the kernel's enum bpf_attach_type has no BPF_TRACE_KPROBE_MULTI: 5.18+)");
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
                    link = Kscope.Native.Bpf.LinkCreate(ref attr);
                }
                catch (KernelException e) when (e.Errno is Errno.EOPNOTSUPP or Errno.ENOTSUPP)
                {
                    p.Dispose();
                    Requires.KernelLacks($"kprobe multi links (built without CONFIG_FPROBE: link_create says {e.Errno})");
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
        RequireTracing(ProgramType.Tracing, AttachType.TraceFentry, id, "fentry/fexit (BPF trampolines)");
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
        RequireTracing(ProgramType.Tracing, AttachType.TraceRawTp, id, "tp_btf programs (BPF_TRACE_RAW_TP with a BTF target)");
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
        string lsms = File.ReadAllText("/sys/kernel/security/lsm").Trim();
        uint id = BtfId("bpf_lsm_file_open", BtfKind.Func);
        if (!lsms.Split(',').Contains("bpf"))
        {
            Requires.KernelLacks($"BPF LSM (active LSMs: {lsms}; needs CONFIG_BPF_LSM and 'bpf' in lsm=)");
        }
        RequireTracing(ProgramType.Lsm, AttachType.LsmMac, id, "BPF LSM programs");
        using Map counter = TestPrograms.CounterMap();
        using Program p = LoadTracing(ProgramType.Lsm, AttachType.LsmMac, id, counter, "kscope_lsm");
        using (Link link = Attach.Tracing(p, LinkKind.Lsm))
        {
            OpenFiles(25); // the program returns 0: every open is allowed
        }
        Assert.True(TestPrograms.Read(counter) >= 25, $"lsm file_open saw {TestPrograms.Read(counter)}");
    }
}
