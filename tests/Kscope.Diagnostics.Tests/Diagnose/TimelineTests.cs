using Kscope.Diagnostics.Diagnose;

namespace Kscope.Diagnostics.Tests.Diagnose;

public sealed class TimelineTests
{
    [Fact]
    public void Timeline_PastItsCaps_DropsAndCountsInsteadOfGrowing()
    {
        var t = new Timeline(new TimelineLimits { MaxEvents = 3, MaxIntervals = 2, MaxSeries = 2, MaxPointsPerSeries = 4 });
        for (int i = 0; i < 10; i++)
        {
            t.Add(new TimelineEvent((ulong)i, 1, 1, 1, 1, 0, "exec"));
            t.Add(new TimelineInterval((ulong)i, (ulong)i + 1, 1, 1, "runq_wait"));
            t.AddPoint("pid:1", "threads", (ulong)i, i);
        }
        t.AddPoint("pid:1", "fds", 0, 1);
        t.AddPoint("pid:1", "run_ns", 0, 1); // a third series: over MaxSeries
        Assert.Equal(3, t.Events.Count);
        Assert.Equal(7UL, t.DroppedEvents);
        Assert.Equal(2, t.Intervals.Count);
        Assert.Equal(8UL, t.DroppedIntervals);
        Assert.Equal(2, t.Series.Count);
        Assert.Equal(1UL, t.DroppedSeries);
        CounterSeries threads = t.Find("pid:1", "threads")!;
        Assert.Equal(4, threads.Points.Count);
        Assert.Equal(6UL, threads.Dropped);
        Assert.Equal(7UL, t.DroppedPoints); // 6 past the series' cap + 1 of the series that was not made
        Assert.Equal(3.0, threads.Delta);
        Assert.Null(t.Find("pid:1", "run_ns"));
    }

    [Fact]
    public void CounterSeries_OnePoint_HasNoDelta()
    {
        var t = new Timeline();
        t.AddPoint("host", "cpu_some_total_us", 5, 42);
        Assert.Null(t.Find("host", "cpu_some_total_us")!.Delta);
        Assert.Equal(42, t.Find("host", "cpu_some_total_us")!.Last!.Value.Value);
    }

    [Fact]
    public void ClockSnapshot_MonotonicAndRealtime_AgreeWithTheSystemClocks()
    {
        ClockSnapshot a = MonotonicClock.Snapshot();
        Thread.Sleep(20);
        ClockSnapshot b = MonotonicClock.Snapshot();
        Assert.True(b.MonotonicNs > a.MonotonicNs);
        // The offset moves only with NTP slewing or a clock step: within 50 ms over 20 ms.
        Assert.True(Math.Abs(b.RealtimeOffsetNs - a.RealtimeOffsetNs) < 50_000_000, $"{a} {b}");
        Assert.True(Math.Abs((a.Realtime - DateTimeOffset.UtcNow).TotalSeconds) < 5);
        Assert.Equal(a.Realtime.ToUnixTimeMilliseconds(), a.ToRealtime(a.MonotonicNs).ToUnixTimeMilliseconds());
        // CLOCK_MONOTONIC is the clock of /proc/uptime's first field (both count from boot, not during suspend).
        double uptime = double.Parse(File.ReadAllText("/proc/uptime").Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(Math.Abs(MonotonicClock.NowNs() / 1e9 - uptime) < 5, $"monotonic {MonotonicClock.NowNs() / 1e9}, uptime {uptime}");
    }
}
