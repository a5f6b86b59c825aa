using Kscope.Diagnostics.Diagnose.Rules;

namespace Kscope.Diagnostics.Diagnose;

/// <summary>
/// Runs every rule over a capture and ranks the findings by the time they account for (their share of the window's
/// lost time), then severity. A window with nothing above info is "no problem found", with the numbers that show it
/// (<see cref="Summary"/>).
/// </summary>
public sealed class Diagnosis
{
    public static IReadOnlyList<IRule> Rules { get; } = [new CpuThrottlingRule(), new CpuContentionRule(), new FdExhaustionRule(), new PidsExhaustionRule(),
        new OomKillRule(), new TcpErrorsRule(), new ProcessKilledRule()];

    private Diagnosis(DiagnoseContext context, IReadOnlyList<Finding> findings, IReadOnlyList<EvidenceItem> summary)
    {
        (Context, Findings, Summary) = (context, findings, summary);
    }

    public DiagnoseContext Context { get; }

    public IReadOnlyList<Finding> Findings { get; }

    /// <summary>The few numbers of the window every report shows (CPU used, throttled share, run-queue wait share, PSI cpu).</summary>
    public IReadOnlyList<EvidenceItem> Summary { get; }

    public Severity? Worst => Findings.Count == 0 ? null : Findings.Max(f => f.Severity);

    /// <summary>Nothing above info.</summary>
    public bool Healthy => Worst is null or Severity.Info;

    public static Diagnosis Evaluate(DiagnoseContext context)
    {
        List<Finding> findings = Rules.SelectMany(r => r.Evaluate(context))
            .OrderByDescending(f => f.LostNs).ThenByDescending(f => f.Severity).ToList();
        return new Diagnosis(context, findings, SummaryOf(context));
    }

    /// <summary>Lost time of a finding as a share of the window (per CPU-second of wall time: can exceed 1 with several threads).</summary>
    public double LostShare(Finding f) => f.LostNs / Context.WindowNs;

    private static List<EvidenceItem> SummaryOf(DiagnoseContext c)
    {
        double? usage = null, periods = null, throttled = null;
        if (c.Target.Cpu is var (cpuDir, _))
        {
            usage = c.Delta(CounterPoller.CgroupScope(cpuDir), "usage_us");
        }
        if (c.ThrottledCgroup is var (dir, _))
        {
            periods = c.Delta(CounterPoller.CgroupScope(dir), "nr_periods");
            throttled = c.Delta(CounterPoller.CgroupScope(dir), "nr_throttled");
        }
        double? run = c.ProcessDelta("run_ns"), wait = c.ProcessDelta("runqueue_wait_ns");
        double? psi = c.Target.PressureDirectory is string pd ? c.Delta(CounterPoller.PressureScope(pd), "cpu_some_total_us") : null;
        CounterSeries? threads = c.Timeline.Find(CounterPoller.ProcessScope(c.Target.Pid), "threads");
        CounterSeries? fds = c.Timeline.Find(CounterPoller.ProcessScope(c.Target.Pid), "fds");
        return
        [
            new("window_ms", Math.Round(c.WindowNs / 1e6, 1)),
            new("process_cpus", run is double r ? Math.Round(r / c.WindowNs, 3) : null),
            new("cgroup_usage_cpus", usage is double u ? Math.Round(u * 1000 / c.WindowNs, 3) : null),
            new("quota_cpus", c.Facts.QuotaCpus is double q ? Math.Round(q, 4) : null),
            new("effective_cpus", (long)c.Facts.EffectiveCpus),
            new("throttled_share", periods is double p && p > 0 && throttled is double t ? Math.Round(t / p, 4) : null),
            new("runqueue_wait_share", run is double r2 && wait is double w && r2 + w > 0 ? Math.Round(w / (r2 + w), 4) : null),
            new("psi_cpu_some_share", psi is double ps ? Math.Round(ps * 1000 / c.WindowNs, 4) : null),
            new("threads", threads?.Last is { } th ? (long)th.Value : null),
            new("fds", fds?.Last is { } fd ? (long)fd.Value : null),
            new("gomaxprocs", c.Facts.Gomaxprocs is int g ? g : null),
        ];
    }
}
