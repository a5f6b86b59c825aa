using System.Globalization;

namespace Kscope.Diagnostics.Diagnose.Rules;

/// <summary>
/// <c>process_killed</c>: a process of the target died of a signal during the window (the signal gadget's deliveries
/// that kill: SIGSEGV, SIGABRT, SIGKILL …, one per process however many threads it had), with who sent it where the
/// kernel saw the sending (a kill(2) by another process, the kernel itself for a fault or the OOM killer). Critical.
/// </summary>
public sealed class ProcessKilledRule : IRule
{
    public string Kind => "process_killed";

    public IEnumerable<Finding> Evaluate(DiagnoseContext c)
    {
        IReadOnlyList<TimelineEvent> all = c.Timeline.Events;
        // "SIGSEGV code 1 comm server", the first delivery of each process (every thread of it reports one)
        var deaths = all.Where(e => e.Kind == "fatal_signal").GroupBy(e => e.Pid).Select(g => g.MinBy(e => e.TimeNs)!)
            .Select(e => (Event: e, Parts: e.Payload!.Split(' '))).Where(d => d.Parts.Length >= 5).OrderBy(d => d.Event.TimeNs).ToList();
        if (deaths.Count == 0)
        {
            yield break;
        }
        // "SIGKILL to 4242 code 0 from kill" (the event's pid: the sender)
        var sent = all.Where(e => e.Kind == "signal_sent").Select(e => (Event: e, Parts: e.Payload!.Split(' '))).Where(s => s.Parts.Length >= 7).ToList();
        var lines = new List<string>();
        var senders = new List<string>();
        foreach (var (e, p) in deaths)
        {
            string signal = p[0], comm = string.Join(' ', p[4..]); // comm is last: it may hold spaces
            int code = int.TryParse(p[2], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v) ? v : 0;
            var from = sent.Where(s => s.Parts[0] == signal && s.Parts[2] == e.Pid.ToString(CultureInfo.InvariantCulture) && s.Event.TimeNs <= e.TimeNs)
                .Select(s => s.Event.Pid == e.Pid && code > 0 ? "itself (a fault)" : s.Parts[4] == "128" ? "the kernel" : $"pid {s.Event.Pid} ({string.Join(' ', s.Parts[6..])})")
                .LastOrDefault();
            from ??= code > 0 && signal is "SIGSEGV" or "SIGBUS" or "SIGFPE" or "SIGILL" ? "a fault of its own" : null;
            lines.Add($"pid {e.Pid} ({comm}) by {signal}{(from is null ? "" : $", sent by {from}")}");
            senders.Add(from ?? "unknown");
        }
        bool fault = deaths.Any(d => d.Parts[0] is "SIGSEGV" or "SIGBUS" or "SIGFPE" or "SIGILL" or "SIGABRT");
        bool killed = deaths.Any(d => d.Parts[0] is "SIGKILL" or "SIGTERM" or "SIGINT" or "SIGHUP" or "SIGQUIT");
        var advice = new List<string>();
        if (fault)
        {
            advice.Add("a crash (SIGSEGV/SIGBUS/SIGFPE/SIGILL, or SIGABRT from abort() or a runtime's fatal error): keep its core dump " +
                "(coredumpctl, or ulimit -c unlimited and /proc/sys/kernel/core_pattern) and its stderr; a Go program prints the goroutine that crashed");
        }
        if (killed)
        {
            advice.Add("a kill: the sender is named where the kernel saw it (an orchestrator's stop, a supervisor's restart, a script); " +
                "SIGKILL sent by the kernel is usually the OOM killer (see oom_kill)");
        }
        yield return new Finding(Kind, Severity.Critical, $"{deaths.Count} process(es) killed by a signal: {string.Join("; ", lines.Take(3))}",
        [
            new("processes", (long)deaths.Count),
            new("killed", string.Join(" ", deaths.Select(d => $"{d.Event.Pid}:{d.Parts[0]}"))),
            new("senders", string.Join("; ", senders)),
            new("window_ms", Math.Round(c.WindowNs / 1e6, 1)),
        ], string.Join("; ", advice))
        {
            StartNs = deaths[0].Event.TimeNs,
            EndNs = deaths[^1].Event.TimeNs,
        };
    }
}
