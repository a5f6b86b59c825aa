using System.Diagnostics;
using Kscope.Diagnostics.Diagnose;

namespace Kscope.Diagnostics.Tests.Diagnose;

/// <summary>The poller on a real, busy, multi-threaded process (this test host) and its real cgroups.</summary>
public sealed class CounterPollerTests
{
    [Fact]
    public void Sample_BusyThreadsOfThisProcess_RunTimeGrowsByTheirCpuTimeAndThreadsAndFdsAreCounted()
    {
        int pid = Environment.ProcessId;
        DiagnoseTarget target = DiagnoseTarget.ForProcess(pid);
        var timeline = new Timeline();
        var poller = new CounterPoller(target, timeline);
        using var release = new ManualResetEventSlim();
        using var done = new CountdownEvent(2);
        var burned = new long[2];
        // Two threads burn 300 ms of CPU each and stay alive until both samples are taken (schedstat is per live thread).
        Thread[] burners = [.. Enumerable.Range(0, 2).Select(i => new Thread(() =>
        {
            TimeSpan start = CurrentThreadCpu();
            while ((CurrentThreadCpu() - start).TotalMilliseconds < 300)
            {
            }
            burned[i] = (long)(CurrentThreadCpu() - start).TotalNanoseconds;
            done.Signal();
            release.Wait();
        }))];
        poller.Sample();
        foreach (Thread t in burners)
        {
            t.Start();
        }
        Assert.True(done.Wait(TimeSpan.FromMinutes(2)), "the burners did not finish");
        poller.Sample();
        release.Set();
        foreach (Thread t in burners)
        {
            t.Join();
        }
        string scope = CounterPoller.ProcessScope(pid);
        double run = timeline.Find(scope, "run_ns")!.Delta!.Value;
        Assert.True(run >= burned.Sum() * 0.9, $"schedstat run grew {run / 1e6:F0} ms, the burners alone used {burned.Sum() / 1e6:F0} ms");
        Assert.True(timeline.Find(scope, "threads")!.Last!.Value.Value >= 3);
        Assert.True(timeline.Find(scope, "fds")!.Last!.Value.Value >= 3);
        Assert.True(timeline.Find(scope, "timeslices")!.Delta > 0);
        Assert.True(timeline.Find(scope, "voluntary_ctxt_switches")!.Delta >= 0);
        Assert.Equal(0UL, poller.ReadErrors);
        Assert.Equal(2UL, poller.Samples);
        if (target.PressureDirectory is string pd)
        {
            Assert.NotNull(timeline.Find(CounterPoller.PressureScope(pd), "cpu_some_total_us"));
        }
    }

    /// <summary>This thread's CPU time (/proc/thread-self/schedstat's run time: the kernel's own accounting).</summary>
    private static TimeSpan CurrentThreadCpu() =>
        TimeSpan.FromTicks(long.Parse(File.ReadAllText("/proc/thread-self/schedstat").Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) / 100);

    [Fact]
    public void Sample_ProcessGone_SkipsItWithoutErrors()
    {
        using Process p = Process.Start("/bin/sleep", "30");
        DiagnoseTarget target = DiagnoseTarget.ForProcess(p.Id);
        var timeline = new Timeline();
        var poller = new CounterPoller(target, timeline);
        poller.Sample();
        p.Kill();
        p.WaitForExit();
        poller.Sample();
        Assert.Equal(0UL, poller.ReadErrors);
        Assert.Single(timeline.Find(CounterPoller.ProcessScope(p.Id), "threads")!.Points);
    }
}
