namespace Kscope.Kernel.Host;

/// <summary>
/// CFS bandwidth statistics of a cgroup (v2 cpu.stat nr_periods/nr_throttled/throttled_usec; v1 cpu.stat
/// nr_periods/nr_throttled/throttled_time in nanoseconds, converted).
/// </summary>
public sealed record CpuThrottling(ulong Periods, ulong ThrottledPeriods, ulong ThrottledMicroseconds, string Source)
{
    /// <summary>Share of enforcement periods in which the cgroup was throttled (0..1); null before the first period.</summary>
    public double? ThrottledShare => Periods == 0 ? null : (double)ThrottledPeriods / Periods;
}
