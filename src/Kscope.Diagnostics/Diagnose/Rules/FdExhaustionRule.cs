namespace Kscope.Diagnostics.Diagnose.Rules;

/// <summary>
/// <c>fd_exhaustion</c>: a process of the target held most of the descriptors its soft RLIMIT_NOFILE allows
/// (the peak of /proc/PID/fd over the window against "Max open files" of /proc/PID/limits). At the limit every
/// open, accept, socket and pipe fails with EMFILE: a server stops taking connections while it looks alive.
/// Growth over the window (last minus first) says whether it is leaking toward the limit.
/// </summary>
public sealed class FdExhaustionRule : IRule
{
    /// <summary>Holding this share of the limit at the peak is a warning; <see cref="CriticalShare"/> is critical.</summary>
    public const double WarningShare = 0.80;

    public const double CriticalShare = 0.95;

    public string Kind => "fd_exhaustion";

    public IEnumerable<Finding> Evaluate(DiagnoseContext c)
    {
        foreach (int pid in c.Target.Pids)
        {
            string scope = CounterPoller.ProcessScope(pid);
            if (c.Timeline.Find(scope, "fds") is not { Last: { } last, First: { } first } fds ||
                c.Timeline.Find(scope, "fd_limit")?.Last is not { Value: > 0 } limitPoint)
            {
                continue;
            }
            double limit = limitPoint.Value, peak = fds.Max, share = peak / limit;
            // The open gadget's failed opens of this process with EMFILE: it did reach the limit (between two polls, maybe)
            long emfile = c.Timeline.Events.Count(e => e.Pid == pid && e.Kind == "open_error" && e.Payload?.StartsWith("EMFILE ", StringComparison.Ordinal) == true);
            if (share < WarningShare && emfile == 0)
            {
                continue;
            }
            double growth = last.Value - first.Value;
            double perSecond = growth * 1e9 / c.WindowNs;
            double? toLimitS = perSecond > 0 && last.Value < limit ? (limit - last.Value) / perSecond : null;
            Severity severity = share >= CriticalShare || emfile > 0 ? Severity.Critical : Severity.Warning;
            string title = $"pid {pid} held {(long)peak} of its {(long)limit} file descriptors ({CpuThrottlingRule.Fmt(share * 100)}% of RLIMIT_NOFILE)" +
                (growth > 0 ? $", {(long)growth} more at the end than at the start" : "") +
                (emfile > 0 ? $"; {emfile} opens failed with EMFILE (too many open files)" : "");
            string advice = $"raise its open-files limit above {(long)limit} (LimitNOFILE= in its systemd unit, `ulimit -n` before it starts, " +
                "the container runtime's nofile ulimit)" +
                (growth > 0 ? $", and find the descriptors it does not close: it opened {(long)growth} more over {CpuThrottlingRule.Fmt(c.WindowNs / 1e9)} s (ls -l /proc/{pid}/fd)" : "");
            yield return new Finding(Kind, severity, title,
            [
                new("pid", (long)pid),
                new("fds_peak", (long)peak),
                new("fds_first", (long)first.Value),
                new("fds_last", (long)last.Value),
                new("fd_limit", (long)limit),
                new("fd_share", Math.Round(share, 4)),
                new("fds_per_s", Math.Round(perSecond, 2)),
                new("seconds_to_limit", toLimitS is double t ? Math.Round(t, 1) : null),
                new("emfile_errors", c.Capture.OpensSeen is null ? null : emfile),
                new("limits_file", $"/proc/{pid}/limits"),
                new("window_ms", Math.Round(c.WindowNs / 1e6, 1)),
            ], advice)
            {
                StartNs = c.Timeline.StartNs,
                EndNs = c.Timeline.EndNs,
            };
        }
    }
}
