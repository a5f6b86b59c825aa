using Kscope.Kernel.Host;

namespace Kscope.Diagnostics.Trace.Gadgets.CpuThrottle;

/// <summary>
/// The cpu-throttle gadget: reads the CFS bandwidth counters of a cgroup (v2 cpu.stat nr_periods,
/// nr_throttled, throttled_usec; v1 cpu.stat with throttled_time in ns) and reports the change per
/// interval. The kernel has no tracepoint per throttled period, so this polls.
/// </summary>
public sealed class CpuThrottleSampler
{
    private readonly string _dir;
    private readonly int _version;
    private CpuThrottling _last;

    private CpuThrottleSampler(string dir, int version, CpuThrottling first)
    {
        (_dir, _version, _last, First) = (dir, version, first, first);
    }

    public string Directory => _dir;

    public CpuThrottling First { get; }

    public CpuThrottling Last => _last;

    /// <summary>For a cgroup directory (v1 cpu controller or v2 with the cpu controller enabled).</summary>
    public static CpuThrottleSampler ForDirectory(string dir)
    {
        int version = File.Exists(Path.Combine(dir, "cgroup.controllers")) ? 2 : 1;
        CpuThrottling first = CgroupLimits.ReadThrottling(dir, version)
            ?? throw new TraceTargetException($"trace cpu-throttle: {dir}/cpu.stat has no nr_periods/nr_throttled (the cpu controller is not enabled for this cgroup)");
        return new CpuThrottleSampler(dir, version, first);
    }

    /// <summary>For a process: its cgroup in the hierarchy that has the cpu controller.</summary>
    public static CpuThrottleSampler ForProcess(int pid)
    {
        IReadOnlyList<ProcessCgroup> cgroups = Cgroups.Of(pid, Cgroups.Hierarchies(Procfs.MountInfo()));
        ProcessCgroup cpu = CgroupLimits.Controller(cgroups, "cpu")
            ?? throw new TraceTargetException($"trace cpu-throttle: process {pid} is in no cgroup with the cpu controller");
        return ForDirectory(cpu.Directory);
    }

    /// <summary>Reads cpu.stat again and returns the change since the previous sample.</summary>
    public CpuThrottleRecord Sample(ulong timestampNs)
    {
        CpuThrottling now = CgroupLimits.ReadThrottling(_dir, _version)
            ?? throw new TraceTargetException($"trace cpu-throttle: {_dir}/cpu.stat disappeared (cgroup removed)");
        var record = new CpuThrottleRecord(timestampNs, _dir, now.Periods - _last.Periods, now.ThrottledPeriods - _last.ThrottledPeriods,
            now.ThrottledMicroseconds - _last.ThrottledMicroseconds);
        _last = now;
        return record;
    }
}

/// <summary>One interval of cpu-throttle: enforcement periods, throttled periods and throttled time.</summary>
public sealed record CpuThrottleRecord(ulong TimestampNs, string Cgroup, ulong Periods, ulong ThrottledPeriods, ulong ThrottledMicroseconds) : ITraceRecord
{
    public double ThrottledPercent => Periods == 0 ? 0 : 100.0 * ThrottledPeriods / Periods;

    public IReadOnlyList<TraceField> Fields() =>
    [
        new("time_ns", TimestampNs), new("cgroup", Cgroup), new("periods", Periods), new("throttled", ThrottledPeriods),
        new("throttled_pct", Math.Round(ThrottledPercent, 1)), new("throttled_ms", Math.Round(ThrottledMicroseconds / 1000.0, 1)),
    ];
}
