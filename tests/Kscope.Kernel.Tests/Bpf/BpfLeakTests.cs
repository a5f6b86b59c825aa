using System.Text.Json;
using Kscope.Kernel.Bpf;

namespace Kscope.Kernel.Tests.Bpf;

[Collection(LeakCollection.Name)]
public class BpfLeakTests
{
    [Fact]
    public void LoadAttachDispose_1000Cycles_LeaveFdsAndKernelProgramsUnchanged()
    {
        Requires.Root();
        string bpftool = Requires.Tool("bpftool", "bpftool");
        using Map counter = TestPrograms.CounterMap();
        int before = CountKscopePrograms(bpftool);
        FdCounter.AssertNoGrowth(1000, () =>
        {
            using Program p = TestPrograms.LoadCounter(ProgramType.RawTracepoint, counter, "kscope_leak");
            using Link l = Attach.RawTracepoint(p, "sys_enter");
        });
        FdCounter.AssertNoGrowth(50, () =>
        {
            using Program p = TestPrograms.LoadCounter(ProgramType.Tracepoint, counter, "kscope_leak");
            using Link l = Attach.Tracepoint(p, "syscalls", "sys_enter_getpid");
        });
        Assert.Equal(before, CountKscopePrograms(bpftool));
    }

    [Fact]
    public void RingAndPerfReaders_Repeated_DoNotLeak()
    {
        Requires.Root();
        FdCounter.AssertNoGrowth(50, () =>
        {
            using Map ring = Map.Create(new MapSpec { Name = "kscope_rbl", Type = MapType.RingBuf, MaxEntries = 4096 });
            using var r = new RingBufReader(ring);
            using Map perf = Map.Create(new MapSpec { Name = "kscope_pbl", Type = MapType.PerfEventArray, KeySize = 4, ValueSize = 4, MaxEntries = (uint)PossibleCpus.Count });
            using var pr = new PerfBufReader(perf, 1);
        });
    }

    private static int CountKscopePrograms(string bpftool)
    {
        using JsonDocument doc = JsonDocument.Parse(Tools.Check(bpftool, "prog", "show", "-j"));
        return doc.RootElement.EnumerateArray().Count(p => p.TryGetProperty("name", out JsonElement n) && n.GetString() == "kscope_leak");
    }
}
