using System.Diagnostics;

namespace Kscope.Diagnostics.Diagnose;

/// <summary>
/// The one clock of a capture: CLOCK_MONOTONIC nanoseconds, the clock of eBPF's bpf_ktime_get_ns and of the
/// sampler's perf events (use_clockid). On Linux, .NET's Stopwatch reads CLOCK_MONOTONIC with a 1 GHz frequency.
/// </summary>
public static class MonotonicClock
{
    public static ulong NowNs() => (ulong)(Stopwatch.GetTimestamp() * (1e9 / Stopwatch.Frequency));

    /// <summary>Reads both clocks back to back: REALTIME = MONOTONIC + <see cref="ClockSnapshot.RealtimeOffsetNs"/>.</summary>
    public static ClockSnapshot Snapshot()
    {
        ulong before = NowNs();
        long realtime = (DateTimeOffset.UtcNow - DateTimeOffset.UnixEpoch).Ticks * 100;
        ulong after = NowNs();
        ulong mono = before + (after - before) / 2;
        return new ClockSnapshot(mono, realtime, realtime - (long)mono);
    }
}

/// <summary>One reading of both clocks: CLOCK_MONOTONIC ns, CLOCK_REALTIME ns since the epoch, and their difference.</summary>
public readonly record struct ClockSnapshot(ulong MonotonicNs, long RealtimeNs, long RealtimeOffsetNs)
{
    public DateTimeOffset Realtime => DateTimeOffset.UnixEpoch.AddTicks(RealtimeNs / 100);

    /// <summary>A CLOCK_MONOTONIC time as wall-clock time, by this snapshot's offset.</summary>
    public DateTimeOffset ToRealtime(ulong monotonicNs) => DateTimeOffset.UnixEpoch.AddTicks(((long)monotonicNs + RealtimeOffsetNs) / 100);
}
