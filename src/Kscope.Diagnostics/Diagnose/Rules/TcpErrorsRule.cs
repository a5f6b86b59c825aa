using System.Globalization;

namespace Kscope.Diagnostics.Diagnose.Rules;

/// <summary>
/// <c>tcp_errors</c>: the target's TCP connects that failed (ECONNREFUSED: nothing listens there; ETIMEDOUT: no
/// answer to the SYNs), its connections reset or aborted (ESTABLISHED → CLOSE without the FIN states), and its
/// retransmits, from the tcp gadget (errors only leave the kernel), by peer. A failed connect costs the caller the
/// time until it failed: that is the finding's lost time. A failed connect makes a warning; a connect that timed out
/// (each one is seconds of SYN retries) or at least <see cref="CriticalFailures"/> failed ones critical; resets and
/// retransmits alone are info, from <see cref="RetransmitWarning"/> retransmits a warning.
/// </summary>
public sealed class TcpErrorsRule : IRule
{
    public const int CriticalFailures = 100;

    /// <summary>Retransmits in the window from which they alone make a warning (each one costs at least an RTO, 200 ms and up).</summary>
    public const int RetransmitWarning = 10;

    public string Kind => "tcp_errors";

    public IEnumerable<Finding> Evaluate(DiagnoseContext c)
    {
        List<TimelineEvent> events = c.Timeline.Events.Where(e => e.Kind is "tcp_connect_error" or "tcp_reset" or "tcp_retransmit").ToList();
        if (events.Count == 0)
        {
            yield break;
        }
        // "ECONNREFUSED 127.0.0.1:8080 latency_ns 41000"
        var failed = events.Where(e => e.Kind == "tcp_connect_error").Select(e => e.Payload!.Split(' ')).Where(p => p.Length >= 2)
            .Select(p => (Errno: p[0], Peer: p[1], LatencyNs: p.Length >= 4 && long.TryParse(p[3], NumberStyles.None, CultureInfo.InvariantCulture, out long ns) ? ns : 0)).ToList();
        int resets = events.Count(e => e.Kind == "tcp_reset"), retransmits = events.Count(e => e.Kind == "tcp_retransmit");
        long lostNs = failed.Sum(f => f.LatencyNs);
        bool timedOut = failed.Any(f => f.Errno == "ETIMEDOUT");
        Severity severity = timedOut || failed.Count >= CriticalFailures ? Severity.Critical
            : failed.Count > 0 || retransmits >= RetransmitWarning ? Severity.Warning
            : Severity.Info; // a few resets (clients that went away) and retransmits are what a network does
        string Top(IEnumerable<string> peers) => string.Join(", ", peers.GroupBy(p => p, StringComparer.Ordinal).OrderByDescending(g => g.Count())
            .Take(3).Select(g => $"{g.Key} {g.Count()}"));
        var parts = new List<string>();
        if (failed.Count > 0)
        {
            parts.Add($"{failed.Count} connects failed ({string.Join(", ", failed.GroupBy(f => f.Errno).OrderByDescending(g => g.Count()).Select(g => $"{g.Key} {g.Count()}"))}; to {Top(failed.Select(f => f.Peer))})");
        }
        if (resets > 0)
        {
            parts.Add($"{resets} connections reset or aborted");
        }
        if (retransmits > 0)
        {
            parts.Add($"{retransmits} retransmits (to {Top(events.Where(e => e.Kind == "tcp_retransmit").Select(e => e.Payload!))})");
        }
        var advice = new List<string>();
        if (failed.Any(f => f.Errno == "ECONNREFUSED"))
        {
            advice.Add("nothing listens where ECONNREFUSED came from: check the address and port the service is configured with, and that the upstream is up (ss -ltn on its host)");
        }
        if (timedOut)
        {
            advice.Add("ETIMEDOUT: SYNs went unanswered (a firewall dropping them, a peer down or overloaded): each such connect waited seconds; set a connect timeout and check the path");
        }
        if (resets > 0)
        {
            advice.Add("resets: the peer (or this side, closing with unread data) aborted connections; a proxy's idle timeout or a crashing peer does this");
        }
        if (retransmits > 0)
        {
            advice.Add("retransmits: packets lost or a slow peer; ss -ti shows the connections' retransmit counters and RTT");
        }
        yield return new Finding(Kind, severity, string.Join("; ", parts),
        [
            new("connect_errors", (long)failed.Count),
            new("connect_errors_by_errno", failed.Count == 0 ? null : string.Join(" ", failed.GroupBy(f => f.Errno).OrderByDescending(g => g.Count()).Select(g => $"{g.Key}:{g.Count()}"))),
            new("top_failed_peers", failed.Count == 0 ? null : Top(failed.Select(f => f.Peer))),
            new("connect_error_wait_ms", Math.Round(lostNs / 1e6, 1)),
            new("resets", (long)resets),
            new("retransmits", (long)retransmits),
            new("window_ms", Math.Round(c.WindowNs / 1e6, 1)),
        ], string.Join("; ", advice))
        {
            LostNs = lostNs,
            StartNs = events.Min(e => e.TimeNs),
            EndNs = events.Max(e => e.TimeNs),
        };
    }
}
