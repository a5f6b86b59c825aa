namespace Kscope.Diagnostics.Pprof;

/// <summary>
/// New minus base, per function (<c>go tool pprof -diff_base</c>). With <c>normalize</c> the base is
/// scaled to the new profile's total first, so only the shape is compared.
/// </summary>
public static class ProfileDiff
{
    public static List<DiffEntry> Compute(StackSet baseline, StackSet current, bool normalize = false)
    {
        double scale = normalize && baseline.Total != 0 ? (double)current.Total / baseline.Total : 1.0;
        var entries = new Dictionary<string, DiffEntry>(StringComparer.Ordinal);
        foreach (TopEntry e in TopReport.Compute(baseline))
        {
            entries[e.Name] = new DiffEntry(e.Name, (long)Math.Round(e.Flat * scale), 0, (long)Math.Round(e.Cum * scale), 0);
        }
        foreach (TopEntry e in TopReport.Compute(current))
        {
            entries[e.Name] = entries.TryGetValue(e.Name, out DiffEntry? b)
                ? b with { NewFlat = e.Flat, NewCum = e.Cum }
                : new DiffEntry(e.Name, 0, e.Flat, 0, e.Cum);
        }
        return entries.Values
            .OrderByDescending(e => Math.Abs(e.FlatDelta)).ThenByDescending(e => Math.Abs(e.CumDelta)).ThenBy(e => e.Name, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>Scales a stack set's values (for normalized diff flame graphs).</summary>
    public static IEnumerable<(string[] Frames, long Value)> Scaled(StackSet s, double factor) =>
        s.Stacks.Select(x => (x.Frames, (long)Math.Round(x.Value * factor)));
}
