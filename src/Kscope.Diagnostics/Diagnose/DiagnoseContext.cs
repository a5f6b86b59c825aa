using Kscope.Diagnostics.Doctor;
using Kscope.Diagnostics.Trace.Gadgets.Runqlat;
using Kscope.Formats.Cgroups;
using Kscope.Kernel.Host;

namespace Kscope.Diagnostics.Diagnose;

/// <summary>
/// What the rules read: the capture (timeline, counters, profile, histograms) and the target's facts (its
/// concurrency settings: GOMAXPROCS from its environment or Go's default for its version, DOTNET_PROCESSOR_COUNT;
/// CPUs and the tightest quota along its cgroup's ancestry). Helpers give window deltas of the counters.
/// </summary>
public sealed class DiagnoseContext
{
    public DiagnoseContext(CaptureResult capture, RuntimeFacts facts)
    {
        Capture = capture;
        Facts = facts;
    }

    public CaptureResult Capture { get; }

    public Timeline Timeline => Capture.Timeline;

    public DiagnoseTarget Target => Capture.Target;

    public RuntimeFacts Facts { get; }

    public double WindowNs => Math.Max(1, Timeline.DurationNs);

    /// <summary>The cgroup whose cpu.stat shows the throttling: the one holding the quota, else the process's cpu cgroup.</summary>
    public (string Directory, int Version)? ThrottledCgroup => Target.QuotaCgroup ?? Target.Cpu;

    /// <summary>Change over the window of a cumulative counter; null when it was not read twice.</summary>
    public double? Delta(string scope, string name) => Timeline.Find(scope, name)?.Delta;

    /// <summary>The sum over the target's processes of a per-process counter's change.</summary>
    public double? ProcessDelta(string name)
    {
        double sum = 0;
        bool any = false;
        foreach (int pid in Target.Pids)
        {
            if (Delta(CounterPoller.ProcessScope(pid), name) is double d)
            {
                (sum, any) = (sum + d, true);
            }
        }
        return any ? sum : null;
    }

    /// <summary>runqlat's histograms of the target's processes merged: (count, total ns, max ns, p99 ns); null without the gadget.</summary>
    public (ulong Count, ulong TotalNs, ulong MaxNs, ulong P99Ns)? RunQueue()
    {
        if (!Capture.Sources.Any(s => s.Name == "runqlat" && s.Status == "started"))
        {
            return null;
        }
        ulong[] slots = new ulong[40];
        ulong count = 0, total = 0, max = 0;
        foreach (RunqHistogram h in Capture.RunQueue)
        {
            (count, total, max) = (count + h.Count, total + h.TotalNs, Math.Max(max, h.MaxNs));
            for (int i = 0; i < slots.Length && i < h.Histogram.Slots.Length; i++)
            {
                slots[i] += h.Histogram.Slots[i];
            }
        }
        ulong p99 = count == 0 ? 0 : Math.Min(new Trace.Log2Histogram(slots).Quantile(0.99), max);
        return (count, total, max, p99);
    }
}

/// <summary>The target's concurrency settings and limits, read from /proc when the capture ends (a command has exec'd by then).</summary>
public sealed record RuntimeFacts
{
    public int EffectiveCpus { get; init; }

    /// <summary>The tightest CPU quota along the ancestry, in CPUs; null when none.</summary>
    public double? QuotaCpus { get; init; }

    public ulong? QuotaPeriodUs { get; init; }

    /// <summary>The file the quota is in (cpu.max or cpu.cfs_quota_us).</summary>
    public string? QuotaSource { get; init; }

    /// <summary>The quota is set on an ancestor of the process's own cpu cgroup, not on it.</summary>
    public bool QuotaOnAncestor { get; init; }

    /// <summary>What a runtime should use: min(CPUs, ceil(quota)), at least 1.</summary>
    public int ConcurrencyLimit { get; init; }

    public string? GoVersion { get; init; }

    /// <summary>The GOMAXPROCS the Go runtime runs with: the environment's, else Go's default for its version; null for a non-Go target.</summary>
    public int? Gomaxprocs { get; init; }

    /// <summary>"environment" (GOMAXPROCS=N) or "go default" (the version's own choice).</summary>
    public string? GomaxprocsSource { get; init; }

    /// <summary>DOTNET_PROCESSOR_COUNT from the environment; null when unset.</summary>
    public int? DotnetProcessorCount { get; init; }

    public static RuntimeFacts Read(int pid, CgroupLimits limits)
    {
        var doctor = new DoctorContext(pid);
        int cpus = limits.EffectiveCpus.Value.Count;
        Sourced<CpuMax>? quota = limits.CpuQuota;
        double? q = quota?.Value.Cpus;
        int limit = Doctor.LimitsChecks.ParallelismLimit(cpus, q);
        IReadOnlyDictionary<string, string> env;
        try
        {
            env = doctor.Environment;
        }
        catch (Exception e) when (e is Kscope.Native.KernelException or Kscope.Formats.MalformedDataException)
        {
            env = new Dictionary<string, string>();
        }
        string? go = null;
        try
        {
            go = doctor.TargetGoVersion;
        }
        catch (Exception e) when (e is Kscope.Native.KernelException or Kscope.Formats.MalformedDataException or IOException)
        {
        }
        int? gomaxprocs = null;
        string? gomaxprocsSource = null;
        if (env.TryGetValue("GOMAXPROCS", out string? set) && int.TryParse(set, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int procs) && procs >= 1)
        {
            (gomaxprocs, gomaxprocsSource) = (procs, "environment");
        }
        else if (go is not null)
        {
            gomaxprocs = Doctor.LimitsChecks.GoSizesFromQuota(go) ? Doctor.LimitsChecks.GoQuotaDefault(cpus, q) : cpus;
            gomaxprocsSource = "go default";
        }
        int? dotnet = env.TryGetValue("DOTNET_PROCESSOR_COUNT", out string? d) && int.TryParse(d, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int dn) && dn >= 1 ? dn : null;
        ProcessCgroup? cpuCg = CgroupLimits.Controller(limits.Cgroups, "cpu");
        string? quotaDir = quota is null ? null : Path.GetDirectoryName(quota.Source);
        return new RuntimeFacts
        {
            EffectiveCpus = cpus,
            QuotaCpus = q,
            QuotaPeriodUs = quota?.Value.PeriodMicroseconds,
            QuotaSource = quota?.Source,
            QuotaOnAncestor = quotaDir is not null && cpuCg is not null && quotaDir.TrimEnd('/') != cpuCg.Directory.TrimEnd('/'),
            ConcurrencyLimit = limit,
            GoVersion = go,
            Gomaxprocs = gomaxprocs,
            GomaxprocsSource = gomaxprocsSource,
            DotnetProcessorCount = dotnet,
        };
    }
}
