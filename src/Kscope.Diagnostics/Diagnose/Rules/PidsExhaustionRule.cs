namespace Kscope.Diagnostics.Diagnose.Rules;

/// <summary>
/// <c>pids_exhaustion</c>: the target's pids cgroup held most of the tasks its <c>pids.max</c> allows (the peak of
/// pids.current over the window). Threads count as tasks: at the limit fork, clone and pthread_create fail with
/// EAGAIN, so a Go or .NET runtime that needs one more thread aborts ("failed to create new OS thread"), and
/// a server that forks helpers stalls.
/// </summary>
public sealed class PidsExhaustionRule : IRule
{
    public const double WarningShare = 0.80;

    public const double CriticalShare = 0.95;

    public string Kind => "pids_exhaustion";

    public IEnumerable<Finding> Evaluate(DiagnoseContext c)
    {
        if (c.Target.PidsCgroup is not var (dir, version))
        {
            yield break;
        }
        string scope = CounterPoller.CgroupScope(dir);
        if (c.Timeline.Find(scope, "pids_current") is not { Last: { } last, First: { } first } current ||
            c.Timeline.Find(scope, "pids_max")?.Last is not { Value: > 0 } maxPoint)
        {
            yield break;
        }
        double max = maxPoint.Value, peak = current.Max, share = peak / max;
        if (share < WarningShare)
        {
            yield break;
        }
        long? threads = c.Timeline.Find(CounterPoller.ProcessScope(c.Target.Pid), "threads")?.Last is { } th ? (long)th.Value : null;
        Severity severity = share >= CriticalShare ? Severity.Critical : Severity.Warning;
        string title = $"the pids cgroup held {(long)peak} of the {(long)max} tasks pids.max allows ({CpuThrottlingRule.Fmt(share * 100)}%; threads count as tasks)";
        string advice = $"raise pids.max above {(long)max} ({Path.Combine(dir, "pids.max")}: TasksMax= in a systemd unit, --pids-limit for docker/podman, " +
            "the kubelet's podPidsLimit), or find what keeps creating threads or processes" +
            (threads is long t ? $" (pid {c.Target.Pid} alone has {t} threads)" : "");
        yield return new Finding(Kind, severity, title,
        [
            new("pids_peak", (long)peak),
            new("pids_first", (long)first.Value),
            new("pids_last", (long)last.Value),
            new("pids_max", (long)max),
            new("pids_share", Math.Round(share, 4)),
            new("target_threads", threads),
            new("cgroup", dir),
            new("cgroup_version", (long)version),
            new("window_ms", Math.Round(c.WindowNs / 1e6, 1)),
        ], advice)
        {
            StartNs = c.Timeline.StartNs,
            EndNs = c.Timeline.EndNs,
        };
    }
}
