using System.Globalization;

namespace Kscope.Diagnostics.Diagnose;

/// <summary>The terminal summary: findings ranked, each with its evidence in a few lines and its advice; or "no problem found" and the numbers.</summary>
public static class DiagnoseText
{
    public static void Write(TextWriter o, Diagnosis d)
    {
        CaptureResult c = d.Context.Capture;
        double seconds = c.Timeline.DurationNs / 1e9;
        o.WriteLine($"kscope diagnose: {c.Target.Description}, {seconds.ToString("0.0", CultureInfo.InvariantCulture)} s ({c.EndedBy})");
        foreach (Finding f in d.Findings)
        {
            o.WriteLine();
            o.WriteLine($"{Finding.Name(f.Severity).ToUpperInvariant(),-8} {f.Kind}: {f.Title}");
            o.WriteLine($"         evidence: {Items(f.Evidence)}");
            o.WriteLine($"         advice:   {f.Advice}");
        }
        o.WriteLine();
        o.WriteLine(d.Healthy
            ? $"no problem found: {Items(d.Summary)}"
            : $"window: {Items(d.Summary)}");
        var openErrors = c.Timeline.Events.Where(e => e.Kind == "open_error").ToList();
        if (openErrors.Count > 0)
        {
            // "EMFILE /dev/null" -> by errno, the most frequent first, with one path each
            var byErrno = openErrors.GroupBy(e => e.Payload?.Split(' ', 2)[0] ?? "?").OrderByDescending(g => g.Count())
                .Select(g => $"{g.Key} {g.Count()} (e.g. {g.First().Payload?.Split(' ', 2).ElementAtOrDefault(1)})");
            o.WriteLine($"failed opens: {openErrors.Count}: {string.Join(", ", byErrno)}");
        }
        IEnumerable<SourceStatus> missing = c.Sources.Where(s => s.Status != "started");
        foreach (SourceStatus s in missing)
        {
            o.WriteLine($"source {s.Name} {s.Status}: {s.Detail}");
        }
        Timeline t = c.Timeline;
        if (t.DroppedEvents + t.DroppedIntervals + t.DroppedPoints + c.Counters.ReadErrors > 0)
        {
            o.WriteLine($"dropped: {t.DroppedEvents} events, {t.DroppedIntervals} intervals, {t.DroppedPoints} counter points; {c.Counters.ReadErrors} counter read errors{(c.Counters.LastError is string e ? $" (last: {e})" : "")}");
        }
    }

    private static string Items(IEnumerable<EvidenceItem> items) =>
        string.Join(", ", items.Where(e => e.Value is not null).Select(e => $"{e.Key} {Value(e.Value)}"));

    private static string Value(object? v) => v switch
    {
        double d => d.ToString("0.####", CultureInfo.InvariantCulture),
        bool b => b ? "yes" : "no",
        _ => Convert.ToString(v, CultureInfo.InvariantCulture) ?? "",
    };
}
