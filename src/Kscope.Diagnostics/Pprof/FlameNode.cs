namespace Kscope.Diagnostics.Pprof;

/// <summary>A frame of a flame graph: a function under its caller, with its inclusive value (and a base's, for diffs).</summary>
/// <remarks>
/// Large profiles make hundreds of thousands of nodes, most with one or two children, so children are a
/// sibling list (no per-node collection) and only a node with many children gets a name index.
/// Names from <see cref="FrameNames"/> are interned, so the list scan usually matches by reference.
/// </remarks>
public sealed class FlameNode(string name)
{
    private const int IndexAt = 8;

    private FlameNode? _firstChild;
    private FlameNode? _lastChild;
    private FlameNode? _nextSibling;
    private Dictionary<string, FlameNode>? _index;

    public string Name { get; } = name;

    public long Value { get; set; }

    /// <summary>The base profile's value at the same place (diff graphs), else 0.</summary>
    public long Base { get; set; }

    public int ChildCount { get; private set; }

    /// <summary>The callees, in the order they were first seen.</summary>
    public IEnumerable<FlameNode> Children
    {
        get
        {
            for (FlameNode? c = _firstChild; c is not null; c = c._nextSibling)
            {
                yield return c;
            }
        }
    }

    /// <summary>The callee named <paramref name="name"/>, added when missing.</summary>
    public FlameNode Child(string name)
    {
        FlameNode? c;
        if (_index is not null)
        {
            if (_index.TryGetValue(name, out c))
            {
                return c;
            }
        }
        else
        {
            for (c = _firstChild; c is not null; c = c._nextSibling)
            {
                if (ReferenceEquals(c.Name, name) || string.Equals(c.Name, name, StringComparison.Ordinal))
                {
                    return c;
                }
            }
        }
        c = new FlameNode(name);
        if (_lastChild is null)
        {
            _firstChild = c;
        }
        else
        {
            _lastChild._nextSibling = c;
        }
        _lastChild = c;
        ChildCount++;
        if (_index is not null)
        {
            _index[name] = c;
        }
        else if (ChildCount > IndexAt)
        {
            _index = new Dictionary<string, FlameNode>(ChildCount * 2, StringComparer.Ordinal);
            for (FlameNode? s = _firstChild; s is not null; s = s._nextSibling)
            {
                _index[s.Name] = s;
            }
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

    /// <summary>Levels in the tree, this node included.</summary>
    public int Depth()
    {
        int max = 0;
        for (FlameNode? c = _firstChild; c is not null; c = c._nextSibling)
        {
            max = Math.Max(max, c.Depth());
        }
        return max + 1;
    }
}
