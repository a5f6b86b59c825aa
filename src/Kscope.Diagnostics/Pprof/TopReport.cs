namespace Kscope.Diagnostics.Pprof;

/// <summary>
/// Flat and cumulative value per function, as <c>go tool pprof -top</c>: flat is the value of samples
/// whose leaf (innermost inlined frame) is the function, cum of samples where it appears anywhere
/// (once per sample, so recursion does not double count).
/// </summary>
public static class TopReport
{
    public static List<TopEntry> Compute(StackSet stacks, bool sortByCum = false)
    {
        // A StackSet's names are interned (FrameNames): equal names are one instance.
        var flat = new Dictionary<string, long>(ReferenceEqualityComparer.Instance);
        var cum = new Dictionary<string, long>(ReferenceEqualityComparer.Instance);
        var seen = new HashSet<string>(ReferenceEqualityComparer.Instance);
        foreach (var (frames, value) in stacks.Stacks)
        {
            if (frames.Length == 0)
            {
                continue;
            }
            System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(flat, frames[0], out _) += value;
            seen.Clear();
            foreach (string f in frames)
            {
                if (seen.Add(f))
                {
                    System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(cum, f, out _) += value;
                }
            }
        }
        var entries = cum.Select(kv => new TopEntry(kv.Key, flat.GetValueOrDefault(kv.Key), kv.Value)).ToList();
        // pprof's orders: flat (abs) desc, then name, then cum; with -cum: cum desc, then name, then flat.
        entries.Sort(sortByCum
            ? (a, b) => Math.Abs(b.Cum).CompareTo(Math.Abs(a.Cum)) is int c and not 0 ? c : string.CompareOrdinal(a.Name, b.Name) is int n and not 0 ? n : Math.Abs(b.Flat).CompareTo(Math.Abs(a.Flat))
            : (a, b) => Math.Abs(b.Flat).CompareTo(Math.Abs(a.Flat)) is int c and not 0 ? c : string.CompareOrdinal(a.Name, b.Name) is int n and not 0 ? n : Math.Abs(b.Cum).CompareTo(Math.Abs(a.Cum)));
        return entries;
    }
}
