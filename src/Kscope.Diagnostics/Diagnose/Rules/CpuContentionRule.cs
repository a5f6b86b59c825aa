namespace Kscope.Diagnostics.Diagnose.Rules;

/// <summary>
/// <c>cpu_contention</c>: the target's threads waited on run queues for a large share of the time they were
/// runnable (schedstat run and wait deltas summed over its threads; runqlat's histogram for the percentiles) while
/// throttling was near zero: other tasks hold the CPUs (noisy neighbours, too few CPUs for the load). PSI cpu
/// "some" over the window says how much of the time anything waited.
/// </summary>
public sealed class CpuContentionRule : IRule
{
    /// <summary>Waiting this share of runnable time (and at least 5% of the window) is a warning; 30% is critical.</summary>
    public const double WarningShare = 0.10;

    public const double CriticalShare = 0.30;

    /// <summary>Throttling above this share belongs to cpu_throttling (throttled tasks also wait).</summary>
    public const double MaxThrottledShare = 0.05;

    public string Kind => "cpu_contention";

    public IEnumerable<Finding> Evaluate(DiagnoseContext c)
    {
        if (c.ProcessDelta("runqueue_wait_ns") is not double wait || c.ProcessDelta("run_ns") is not double run || wait + run <= 0)
        {
            yield break;
        }
        double? throttledShare = null;
        if (c.ThrottledCgroup is var (dir, _))
        {
            string scope = CounterPoller.CgroupScope(dir);
            if (c.Delta(scope, "nr_periods") is double p && p > 0 && c.Delta(scope, "nr_throttled") is double t)
            {
                throttledShare = t / p;
            }
        }
        if (throttledShare > MaxThrottledShare)
        {
            yield break;
        }
        double share = wait / (wait + run);
        if (share < WarningShare || wait < 0.05 * c.WindowNs)
        {
            yield break;
        }
        double? slices = c.ProcessDelta("timeslices");
        double? psi = c.Target.PressureDirectory is string pd ? c.Delta(CounterPoller.PressureScope(pd), "cpu_some_total_us") : null;
        var runq = c.RunQueue();
        Severity severity = share >= CriticalShare ? Severity.Critical : Severity.Warning;
        string title = $"threads waited for a CPU {CpuThrottlingRule.Fmt(share * 100)}% of their runnable time ({CpuThrottlingRule.Fmt(wait / 1e9)} s) without throttling";
        string advice = $"other tasks compete for the {c.Facts.EffectiveCpus} CPUs it may use: move noisy neighbours away, give it more CPUs or a cpuset of its own" +
            (c.Facts.Gomaxprocs is int g && g > c.Facts.EffectiveCpus ? $", and lower GOMAXPROCS={g} to {c.Facts.EffectiveCpus}" : "");
        var evidence = new List<EvidenceItem>
        {
            new("runqueue_wait_share", Math.Round(share, 4)),
            new("runqueue_wait_ms", Math.Round(wait / 1e6, 1)),
            new("run_ms", Math.Round(run / 1e6, 1)),
            new("avg_wait_per_slice_us", slices is double s && s > 0 ? Math.Round(wait / s / 1000, 1) : null),
            new("runqlat_p99_us", runq is { Count: > 0 } r1 ? Math.Round(r1.P99Ns / 1000.0, 1) : null),
            new("runqlat_max_us", runq is { Count: > 0 } r2 ? Math.Round(r2.MaxNs / 1000.0, 1) : null),
            new("runqlat_waits", runq is { } r3 ? (long)r3.Count : null),
            new("psi_cpu_some_share", psi is double ps ? Math.Round(ps * 1000 / c.WindowNs, 4) : null),
            new("psi_scope", c.Target.PressureDirectory is string pscope ? CounterPoller.PressureScope(pscope) : null),
            new("throttled_share", throttledShare is double ts ? Math.Round(ts, 4) : null),
            new("effective_cpus", (long)c.Facts.EffectiveCpus),
            new("window_ms", Math.Round(c.WindowNs / 1e6, 1)),
        };
        yield return new Finding(Kind, severity, title, evidence, advice)
        {
            LostNs = wait,
            StartNs = c.Timeline.StartNs,
            EndNs = c.Timeline.EndNs,
        };
    }
}
