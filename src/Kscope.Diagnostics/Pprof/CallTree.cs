using System.Text.RegularExpressions;

namespace Kscope.Diagnostics.Pprof;

/// <summary>Callers and callees of one function (<c>go tool pprof -peek</c>), with edge weights.</summary>
public sealed record CallTree(string Function, long Flat, long Cum, IReadOnlyList<(string Name, long Value)> Callers, IReadOnlyList<(string Name, long Value)> Callees)
{
    /// <summary>One tree per function matching <paramref name="pattern"/>, heaviest first.</summary>
    public static List<CallTree> Compute(StackSet stacks, Regex pattern)
    {
        var byName = new Dictionary<string, Acc>(StringComparer.Ordinal);
        var matches = new Dictionary<string, bool>(StringComparer.Ordinal);
        var seenCaller = new HashSet<(string, string)>();
        var seenCallee = new HashSet<(string, string)>();
        var seenSelf = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (frames, value) in stacks.Stacks)
        {
            seenCaller.Clear();
            seenCallee.Clear();
            seenSelf.Clear();
            for (int i = 0; i < frames.Length; i++)
            {
                string f = frames[i];
                if (!matches.TryGetValue(f, out bool m))
                {
                    matches[f] = m = pattern.IsMatch(f);
                }
                if (!m)
                {
                    continue;
                }
                if (!byName.TryGetValue(f, out Acc? acc))
                {
                    byName[f] = acc = new Acc();
                }
                if (seenSelf.Add(f))
                {
                    acc.Cum += value;
                }
                if (i == 0)
                {
                    acc.Flat += value;
                }
                string caller = i + 1 < frames.Length ? frames[i + 1] : "(root)";
                if (seenCaller.Add((f, caller)))
                {
                    acc.Callers[caller] = acc.Callers.GetValueOrDefault(caller) + value;
                }
                if (i > 0 && seenCallee.Add((f, frames[i - 1])))
                {
                    acc.Callees[frames[i - 1]] = acc.Callees.GetValueOrDefault(frames[i - 1]) + value;
                }
            }
        }
        return byName
            .Select(kv => new CallTree(kv.Key, kv.Value.Flat, kv.Value.Cum, Sorted(kv.Value.Callers), Sorted(kv.Value.Callees)))
            .OrderByDescending(t => t.Cum).ThenBy(t => t.Function, StringComparer.Ordinal)
            .ToList();
    }

    private static List<(string, long)> Sorted(Dictionary<string, long> d) =>
        d.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => (kv.Key, kv.Value)).ToList();

    private sealed class Acc
    {
        public long Flat;
        public long Cum;
        public readonly Dictionary<string, long> Callers = new(StringComparer.Ordinal);
        public readonly Dictionary<string, long> Callees = new(StringComparer.Ordinal);
    }
}
