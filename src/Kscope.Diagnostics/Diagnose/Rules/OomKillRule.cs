using System.Globalization;

namespace Kscope.Diagnostics.Diagnose.Rules;

/// <summary>
/// <c>oom_kill</c>: the kernel's OOM killer killed a process of the target (or one the target's allocation chose)
/// during the window: the oom gadget's kills (oom:mark_victim, with the victim's memory on 6.2 and later), and on
/// cgroup v2 the growth of the target's <c>memory.events</c> <c>oom_kill</c> count, which the kernel keeps whether
/// or not the gadget ran. Always critical: a process died.
/// </summary>
public sealed class OomKillRule : IRule
{
    public string Kind => "oom_kill";

    public IEnumerable<Finding> Evaluate(DiagnoseContext c)
    {
        List<TimelineEvent> kills = c.Timeline.Events.Where(e => e.Kind == "oom_kill").ToList();
        long? counted = null;
        double? memoryMax = null, memoryPeak = null;
        string? cgroup = null;
        if (c.Target.Memory is var (dir, _))
        {
            string scope = CounterPoller.CgroupScope(dir);
            cgroup = dir;
            if (c.Timeline.Find(scope, "memory_events_oom_kill") is { First: { } first, Last: { } last })
            {
                counted = (long)(last.Value - first.Value);
            }
            memoryMax = c.Timeline.Find(scope, "memory_max_bytes")?.Last?.Value;
            memoryPeak = c.Timeline.Find(scope, "memory_current_bytes")?.Max;
        }
        if (kills.Count == 0 && counted is not > 0)
        {
            yield break;
        }
        // "victim 4242 python3 anon_rss_kb 65536 total_vm_kb 70000"
        var victims = kills.Select(k => k.Payload?.Split(' ') ?? []).Where(p => p.Length >= 3).Select(p => new
        {
            Pid = p[1],
            Comm = p[2],
            AnonRssKb = p.Length >= 5 && long.TryParse(p[4], NumberStyles.None, CultureInfo.InvariantCulture, out long kb) ? kb : (long?)null,
        }).ToList();
        long killed = Math.Max(kills.Count, counted ?? 0);
        string who = victims.Count > 0
            ? string.Join(", ", victims.Take(3).Select(v => $"pid {v.Pid} ({v.Comm}{(v.AnonRssKb is long kb ? $", {kb / 1024} MiB anonymous" : "")})"))
            : $"{killed} process(es) of {cgroup}";
        string limit = memoryMax is double max ? $" at memory.max {Mib(max)} MiB" : "";
        string title = $"the OOM killer killed {killed} process(es) in the window{limit}: {who}";
        string advice = (memoryMax is double m ? $"raise memory.max ({Mib(m)} MiB; MemoryMax= in a systemd unit, --memory for docker/podman, " +
                "resources.limits.memory for a pod) above what the service needs at its peak, or find what grows" : "find what grows until the kernel runs out of memory, or give the service more") +
            (c.Facts.GoVersion is not null ? "; a Go service can keep its heap under a limit with GOMEMLIMIT (about 90% of memory.max)" : "") +
            "; the victim's own memory is in the kernel log (dmesg: \"Memory cgroup out of memory: Killed process\")";
        yield return new Finding(Kind, Severity.Critical, title,
        [
            new("kills", killed),
            new("kills_seen_by_gadget", c.Capture.OomKillsSeen is null ? null : (long)kills.Count),
            new("oom_kill_counted_by_cgroup", counted),
            new("victims", victims.Count == 0 ? null : string.Join(" ", victims.Select(v => $"{v.Pid}:{v.Comm}"))),
            new("largest_anon_rss_kb", victims.Max(v => v.AnonRssKb)),
            new("memory_max_bytes", memoryMax is double mm ? (long)mm : null),
            new("memory_peak_bytes", memoryPeak is double mp ? (long)mp : null),
            new("cgroup", cgroup),
            new("window_ms", Math.Round(c.WindowNs / 1e6, 1)),
        ], advice)
        {
            StartNs = kills.Count > 0 ? kills.Min(k => k.TimeNs) : c.Timeline.StartNs,
            EndNs = kills.Count > 0 ? kills.Max(k => k.TimeNs) : c.Timeline.EndNs,
        };
    }

    private static string Mib(double bytes) => (bytes / (1024 * 1024)).ToString("0.#", CultureInfo.InvariantCulture);
}
