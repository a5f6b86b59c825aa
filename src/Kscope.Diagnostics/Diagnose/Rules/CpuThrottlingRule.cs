using System.Globalization;

namespace Kscope.Diagnostics.Diagnose.Rules;

/// <summary>
/// <c>cpu_throttling</c>: the CFS bandwidth controller stopped the target's cgroup in a share of its enforcement
/// periods over the window (cpu.stat nr_throttled / nr_periods deltas, and throttled time), read from the cgroup
/// that holds the tightest quota (an ancestor's quota throttles its children too). Escalated when the runtime runs
/// more threads of Go code (GOMAXPROCS, from the environment or Go's default) or .NET (DOTNET_PROCESSOR_COUNT)
/// than the quota gives CPUs: it burns the period's quota early on all of them, then stalls for the rest.
/// </summary>
public sealed class CpuThrottlingRule : IRule
{
    /// <summary>Below this share of throttled periods there is no finding.</summary>
    public const double MinShare = 0.01;

    public string Kind => "cpu_throttling";

    public IEnumerable<Finding> Evaluate(DiagnoseContext c)
    {
        if (c.ThrottledCgroup is not var (dir, _))
        {
            yield break;
        }
        string scope = CounterPoller.CgroupScope(dir);
        if (c.Delta(scope, "nr_periods") is not double periods || periods <= 0 ||
            c.Delta(scope, "nr_throttled") is not double throttled || c.Delta(scope, "throttled_us") is not double throttledUs)
        {
            yield break;
        }
        double share = throttled / periods;
        if (share < MinShare)
        {
            yield break;
        }
        RuntimeFacts f = c.Facts;
        double? usage = c.Delta(CounterPoller.CgroupScope(c.Target.Cpu?.Directory ?? dir), "usage_us") ?? c.Delta(scope, "usage_us");
        bool goOver = f.Gomaxprocs is int g && f.QuotaCpus is double q1 && g > q1;
        bool dotnetOver = f.DotnetProcessorCount is int d && f.QuotaCpus is double q2 && d > q2;
        Severity severity = share >= 0.20 ? Severity.Critical : share >= 0.05 ? Severity.Warning : Severity.Info;
        if ((goOver || dotnetOver) && severity < Severity.Critical)
        {
            severity++;
        }
        string quotaText = f.QuotaCpus is double qc ? $"quota {Fmt(qc)} CPUs{(f.QuotaOnAncestor ? " (on a parent cgroup)" : "")}" : "a CPU quota";
        string title = $"CPU throttled in {Fmt(share * 100)}% of periods ({Fmt(throttledUs / 1e6)} s lost)" +
            (goOver ? $"; GOMAXPROCS={f.Gomaxprocs} > {quotaText}" : dotnetOver ? $"; DOTNET_PROCESSOR_COUNT={f.DotnetProcessorCount} > {quotaText}" : $" under {quotaText}");
        string where = f.QuotaSource ?? Path.Combine(dir, "cpu.max");
        string advice = goOver
            ? $"set GOMAXPROCS={f.ConcurrencyLimit} (the quota rounded up) or raise the limit to at least {f.Gomaxprocs} CPUs ({where})" +
              (f.GomaxprocsSource == "go default" && f.GoVersion is not null ? $"; {f.GoVersion} picked {f.Gomaxprocs} itself: Go 1.25+ sizes it from the quota" : "")
            : dotnetOver
                ? $"set DOTNET_PROCESSOR_COUNT={f.ConcurrencyLimit} or unset it (.NET sizes from the quota), or raise the limit ({where})"
                : $"raise the CPU quota ({where}{(f.QuotaCpus is double qa ? $", now {Fmt(qa)} CPUs" : "")}) or cut the CPU the service needs: it used {(usage is double u ? Fmt(u * 1000 / c.WindowNs) : "?")} CPUs on average";
        var evidence = new List<EvidenceItem>
        {
            new("throttled_share", Math.Round(share, 4)),
            new("nr_periods", (long)periods),
            new("nr_throttled", (long)throttled),
            new("throttled_ms", Math.Round(throttledUs / 1000, 1)),
            new("window_ms", Math.Round(c.WindowNs / 1e6, 1)),
            new("quota_cpus", f.QuotaCpus is double qv ? Math.Round(qv, 4) : null),
            new("period_us", f.QuotaPeriodUs is ulong p ? (long)p : null),
            new("quota_source", f.QuotaSource),
            new("quota_on_parent", f.QuotaOnAncestor),
            new("cpu_stat", Path.Combine(dir, "cpu.stat")),
            new("usage_cpus", usage is double uu ? Math.Round(uu * 1000 / c.WindowNs, 3) : null),
            new("effective_cpus", (long)f.EffectiveCpus),
            new("gomaxprocs", f.Gomaxprocs is int gg ? gg : null),
            new("gomaxprocs_source", f.GomaxprocsSource),
            new("go_version", f.GoVersion),
            new("dotnet_processor_count", f.DotnetProcessorCount is int dd ? dd : null),
            new("suggested_concurrency", (long)f.ConcurrencyLimit),
        };
        yield return new Finding(Kind, severity, title, evidence, advice)
        {
            LostNs = throttledUs * 1000,
            StartNs = c.Timeline.StartNs,
            EndNs = c.Timeline.EndNs,
        };
    }

    internal static string Fmt(double v) => v.ToString(v >= 100 ? "0" : v >= 10 ? "0.#" : "0.##", CultureInfo.InvariantCulture);
}
