using Kscope.Formats.Go;

namespace Kscope.Diagnostics.Pprof;

/// <summary>
/// Groups a goroutine dump by state and identical stack (function names and lines) and flags
/// likely leaks (many goroutines parked on the same channel/select/lock, or parked for long) and
/// likely deadlocks (blocked forever on nil channels or empty selects; waiting on a lock for minutes).
/// </summary>
public static class GoroutineAnalysis
{
    /// <summary>A group at least this large parked in a blocking state is reported as a likely leak.</summary>
    public const int LeakCount = 10;

    /// <summary>Parked at least this long counts as a likely leak (or deadlock for locks).</summary>
    public static readonly TimeSpan LongWait = TimeSpan.FromMinutes(10);

    public static List<GoroutineGroup> Group(IReadOnlyList<Goroutine> goroutines)
    {
        var groups = new Dictionary<string, List<Goroutine>>(StringComparer.Ordinal);
        foreach (Goroutine g in goroutines)
        {
            string key = g.State + "\n" + string.Join("\n", g.Frames.Select(f => $"{f.Function} {f.File}:{f.Line}")) + "\n" + g.CreatedBy?.Function;
            if (!groups.TryGetValue(key, out List<Goroutine>? list))
            {
                groups[key] = list = [];
            }
            list.Add(g);
        }
        return groups.Values
            .Select(list =>
            {
                Goroutine first = list[0];
                TimeSpan? longest = list.Max(g => g.Waiting);
                var group = new GoroutineGroup(first.State, first.Frames, first.CreatedBy, list.Count, longest, list.Select(g => g.Id).ToList());
                return group with { Finding = Judge(group) };
            })
            .OrderByDescending(g => g.Count).ThenByDescending(g => g.LongestWait ?? TimeSpan.Zero).ThenBy(g => g.State, StringComparer.Ordinal)
            .ToList();
    }

    private static string? Judge(GoroutineGroup g)
    {
        string s = g.State;
        if (s is "chan receive (nil chan)" or "chan send (nil chan)" or "select (no cases)")
        {
            return $"likely deadlock: {g.Count} goroutine(s) blocked forever ({s})";
        }
        bool isLock = s.StartsWith("sync.", StringComparison.Ordinal) && s.Contains("Lock", StringComparison.Ordinal) || s == "semacquire";
        if (isLock && g.LongestWait >= TimeSpan.FromMinutes(1))
        {
            return $"possible deadlock: {g.Count} goroutine(s) waiting {Minutes(g.LongestWait)} for a lock ({s})";
        }
        bool blocking = s.StartsWith("chan ", StringComparison.Ordinal) || s == "select" || isLock || s.StartsWith("sync.", StringComparison.Ordinal) || s == "semacquire";
        if (blocking && (g.Count >= LeakCount || g.LongestWait >= LongWait))
        {
            string where = g.Frames.FirstOrDefault(f => !f.Function.StartsWith("runtime.", StringComparison.Ordinal) && !f.Function.StartsWith("sync.", StringComparison.Ordinal))?.Function ?? g.Frames.FirstOrDefault()?.Function ?? "?";
            return $"likely leak: {g.Count} goroutine(s) parked in {s} at {where}" + (g.LongestWait is { } w ? $" for up to {Minutes(w)}" : "");
        }
        return null;
    }

    private static string Minutes(TimeSpan? t) => t is { } v ? $"{(long)v.TotalMinutes} min" : "<1 min";
}
