namespace Kscope.Diagnostics.Pprof;

/// <summary>A frame of a flame graph: a function under its caller, with its inclusive value (and a base's, for diffs).</summary>
public sealed class FlameNode(string name)
{
    public string Name { get; } = name;

    public long Value { get; set; }

    /// <summary>The base profile's value at the same place (diff graphs), else 0.</summary>
    public long Base { get; set; }

    public Dictionary<string, FlameNode> Children { get; } = new(StringComparer.Ordinal);

    public FlameNode Child(string name)
    {
        if (!Children.TryGetValue(name, out FlameNode? c))
        {
            Children[name] = c = new FlameNode(name);
        }
        return c;
    }

    /// <summary>Root ("all") first, callees below, merged by name under each caller.</summary>
    public static FlameNode Build(StackSet stacks, StackSet? baseline = null)
    {
        var root = new FlameNode("all");
        foreach (var (frames, value) in stacks.Stacks)
        {
            FlameNode n = root;
            n.Value += value;
            for (int i = frames.Length - 1; i >= 0; i--)
            {
                n = n.Child(frames[i]);
                n.Value += value;
            }
        }
        if (baseline is not null)
        {
            foreach (var (frames, value) in baseline.Stacks)
            {
                FlameNode n = root;
                n.Base += value;
                for (int i = frames.Length - 1; i >= 0; i--)
                {
                    n = n.Child(frames[i]);
                    n.Base += value;
                }
            }
        }
        return root;
    }

    public int Depth() => Children.Count == 0 ? 1 : 1 + Children.Values.Max(c => c.Depth());
}
