using System.Diagnostics;
using Kscope.Kernel.Bpf;
using Kscope.Native;
using Kscope.Native.Perf;

namespace Kscope.Kernel.Tests.Bpf;

[Trait("Category", "Kernel")]
public class AttachTests
{
    [Fact]
    public void Tracepoint_SysEnterOpenat_SeesOpens()
    {
        Requires.Root();
        using Map counter = TestPrograms.CounterMap();
        using Program p = TestPrograms.LoadCounter(ProgramType.Tracepoint, counter);
        using (Link link = Attach.Tracepoint(p, "syscalls", "sys_enter_openat"))
        {
            for (int i = 0; i < 20; i++)
            {
                File.ReadAllBytes("/proc/self/stat");
            }
        }
        Assert.True(TestPrograms.Read(counter) >= 20, $"saw {TestPrograms.Read(counter)} opens");
    }

    [Fact]
    public void Tracepoint_Dispose_Detaches()
    {
        Requires.Root();
        using Map counter = TestPrograms.CounterMap();
        using Program p = TestPrograms.LoadCounter(ProgramType.Tracepoint, counter);
        Link link = Attach.Tracepoint(p, "syscalls", "sys_enter_openat");
        link.Dispose();
        ulong before = TestPrograms.Read(counter);
        for (int i = 0; i < 20; i++)
        {
            File.ReadAllBytes("/proc/self/stat");
        }
        Assert.Equal(before, TestPrograms.Read(counter));
    }

    [Fact]
    public void Tracepoint_Unknown_SaysNoSuchTracepoint()
    {
        Requires.Root();
        using Map counter = TestPrograms.CounterMap();
        using Program p = TestPrograms.LoadCounter(ProgramType.Tracepoint, counter);
        var e = Assert.Throws<KernelException>(() => Attach.Tracepoint(p, "syscalls", "sys_enter_nonexistent"));
        Assert.Contains("no such tracepoint", e.Message);
    }

    [Fact]
    public void RawTracepoint_SysEnter_SeesSyscalls()
    {
        Requires.Root();
        using Map counter = TestPrograms.CounterMap();
        using Program p = TestPrograms.LoadCounter(ProgramType.RawTracepoint, counter);
        using (Link link = Attach.RawTracepoint(p, "sys_enter"))
        {
            for (int i = 0; i < 20; i++)
            {
                Posix.GetPid();
            }
        }
        Assert.True(TestPrograms.Read(counter) >= 20);
    }

    [Fact]
    public void Uprobe_AndUretprobe_OnTestBinaryFunction_Fire()
    {
        Requires.Root();
        string binary = UprobeTarget.Build();
        using Map entries = TestPrograms.CounterMap();
        using Map returns = TestPrograms.CounterMap();
        using Program entry = TestPrograms.LoadCounter(ProgramType.Kprobe, entries, "kscope_up");
        using Program exit = TestPrograms.LoadCounter(ProgramType.Kprobe, returns, "kscope_uret");
        using (Attach.Uprobe(entry, binary, "kscope_target"))
        using (Attach.Uprobe(exit, binary, "kscope_target", isReturn: true))
        {
            Tools.Check(binary, "7");
        }
        Assert.Equal(7UL, TestPrograms.Read(entries));
        Assert.Equal(7UL, TestPrograms.Read(returns));
    }

    [Fact]
    public void Uprobe_PidFilter_IgnoresOtherProcesses()
    {
        Requires.Root();
        string binary = UprobeTarget.Build();
        using Map counter = TestPrograms.CounterMap();
        using Program p = TestPrograms.LoadCounter(ProgramType.Kprobe, counter, "kscope_upid");
        using (Attach.Uprobe(p, binary, "kscope_target", pid: Environment.ProcessId))
        {
            Tools.Check(binary, "5");
        }
        Assert.Equal(0UL, TestPrograms.Read(counter));
    }

    [Fact]
    public void Uprobe_PidFilter_SeesTheFilteredProcessOnly()
    {
        Requires.Root();
        string binary = UprobeTarget.Build();
        using Map counter = TestPrograms.CounterMap();
        using Program p = TestPrograms.LoadCounter(ProgramType.Kprobe, counter, "kscope_upid");
        var start = new ProcessStartInfo(binary) { RedirectStandardInput = true, ArgumentList = { "6", "wait" } };
        using Process filtered = Process.Start(start)!;
        try
        {
            using (Attach.Uprobe(p, binary, "kscope_target", pid: filtered.Id))
            {
                Tools.Check(binary, "5"); // another process running the same function: not counted
                filtered.StandardInput.WriteLine("go");
                filtered.StandardInput.Close();
                Assert.True(filtered.WaitForExit(TimeSpan.FromSeconds(30)), "the uprobe target did not exit");
            }
        }
        finally
        {
            if (!filtered.HasExited)
            {
                filtered.Kill();
            }
        }
        Assert.Equal(0, filtered.ExitCode);
        Assert.Equal(6UL, TestPrograms.Read(counter));
    }

    [Fact]
    public void Uprobe_UnknownSymbol_NamesIt()
    {
        Requires.Root();
        string binary = UprobeTarget.Build();
        using Map counter = TestPrograms.CounterMap();
        using Program p = TestPrograms.LoadCounter(ProgramType.Kprobe, counter);
        var e = Assert.Throws<KeyNotFoundException>(() => Attach.Uprobe(p, binary, "no_such_function"));
        Assert.Contains("'no_such_function'", e.Message);
    }

    [Fact]
    public void PerfEvent_CpuClock99Hz_SeesSamples()
    {
        Requires.Root();
        using Map counter = TestPrograms.CounterMap();
        using Program p = TestPrograms.LoadCounter(ProgramType.PerfEvent, counter);
        var links = new List<Link>();
        try
        {
            for (int cpu = 0; cpu < Environment.ProcessorCount; cpu++)
            {
                var attr = new PerfEventAttr { Type = PerfEvents.TypeSoftware, Config = PerfEvents.SoftwareCpuClock, SampleFreq = 99, Flags = PerfEventAttrFlags.Freq };
                links.Add(Attach.PerfEvent(p, PerfEvents.Open(ref attr, -1, cpu), $"perf_event cpu-clock cpu {cpu}"));
            }
            // Burn CPU until 10 cpu-clock samples reached the program (a count, not a rate in a fixed window).
            var sw = Stopwatch.StartNew();
            while (TestPrograms.Read(counter) < 10)
            {
                Assert.True(sw.Elapsed < Poll.Generous, $"only {TestPrograms.Read(counter)} samples after {Poll.Generous.TotalSeconds:0} s of spinning");
            }
        }
        finally
        {
            links.ForEach(l => l.Dispose());
        }
        ulong samples = TestPrograms.Read(counter);
        Assert.True(samples >= 10, $"only {samples} samples");
    }

    [Fact]
    public void Kprobe_ProbeAndAttach_AgreeAndSayNotSupported()
    {
        Requires.Root();
        using Map counter = TestPrograms.CounterMap();
        using Program p = TestPrograms.LoadCounter(ProgramType.Kprobe, counter);
        if (Features.KprobePmu() == FeatureStatus.Present)
        {
            using (Attach.Kprobe(p, "do_sys_openat2"))
            {
                File.ReadAllBytes("/proc/self/stat");
            }
            using (Attach.Kprobe(p, "do_sys_openat2", isReturn: true))
            {
                File.ReadAllBytes("/proc/self/stat");
            }
            Assert.True(TestPrograms.Read(counter) >= 2);
            return;
        }
        var e = Assert.Throws<KernelFeatureNotSupportedException>(() => Attach.Kprobe(p, "do_sys_openat2"));
        Assert.Contains("not supported by this kernel", e.Message);
        Assert.Contains("kprobe 'do_sys_openat2'", e.Message);
        var r = Assert.Throws<KernelFeatureNotSupportedException>(() => Attach.Kprobe(p, "do_sys_openat2", isReturn: true));
        Assert.Contains("kretprobe", r.Message);
        Requires.KernelLacks(KernelProbe.KprobePmu, "Attach.Kprobe says not supported");
    }
}
