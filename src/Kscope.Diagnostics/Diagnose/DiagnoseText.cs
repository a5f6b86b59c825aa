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
