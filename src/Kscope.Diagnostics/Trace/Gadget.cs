namespace Kscope.Diagnostics.Trace;

/// <summary>
/// A built-in gadget of <c>kscope trace</c>: everything about it lives in its own folder under
/// Trace/Gadgets (this type, its record decoder and the C# mirrors of its records, checked against the
/// embedded object's BTF by a test) plus its eBPF source in bpf/gadgets. The session only calls these
/// members; no code elsewhere switches on a gadget's name.
/// </summary>
public abstract class Gadget
{
    /// <summary>Its name on the command line.</summary>
    public abstract string Name { get; }

    /// <summary>What it shows, one line (trace --list).</summary>
    public abstract string Summary { get; }

    public abstract GadgetKind Kind { get; }

    /// <summary>Kernel hooks and maps it needs ("tracepoint:sched/sched_switch"), probed by <see cref="GadgetCatalog.Check"/>.</summary>
    public abstract IReadOnlyList<string> Needs { get; }

    /// <summary>Default columns of the text table (of the aggregate rows for <see cref="GadgetKind.Aggregate"/>).</summary>
    public abstract IReadOnlyList<string> Columns { get; }

    /// <summary>
    /// The JSON schema: for each document type it writes ("event", "total"; "interval" has the keys of
    /// "total"), its keys in order after "schema" (<see cref="TraceWriter.Schema"/>), "type" and "gadget"
    /// (docs/trace.md lists them; --fields accepts them).
    /// </summary>
    public abstract IReadOnlyDictionary<string, IReadOnlyList<string>> Schema { get; }

    /// <summary>Name of its embedded object (bpf/gadgets/NAME.bpf.o); null for gadgets without eBPF.</summary>
    public virtual string? Object => Name;

    /// <summary>Program sections (ending) whose attach may fail on kernels without the hook (openat2 before 5.6).</summary>
    public virtual IReadOnlyList<string> Optional => [];

    /// <summary>Columns of the records an aggregating gadget streams (slow calls, long waits); null: <see cref="Columns"/>.</summary>
    public virtual IReadOnlyList<string>? StreamColumns => null;

    /// <summary>
    /// Size of ring buffer `events` set before load (a power of two of pages, as libbpf's
    /// bpf_map__set_max_entries does) when the object's default is too small for the gadget's rate; null: the object's.
    /// </summary>
    public virtual uint? EventsBytes => null;

    /// <summary>Its rows carry stacks of map `stacks`: the session snapshots the targets' mappings while they live.</summary>
    public virtual bool NeedsStacks => false;

    /// <summary>Its rows name kernel frames: the session reads /proc/kallsyms while it traces, not at the end.</summary>
    public virtual bool KernelStacks => false;

    /// <summary>
    /// Its ring buffer `events` carries requests for a snapshot of a process's mappings (<see cref="MapsRequest"/>,
    /// bpf/gadgets/maps_requests.h), not events: how a stack gadget gets short-lived processes symbolized.
    /// </summary>
    public virtual bool RequestsMaps => false;

    /// <summary>
    /// The C# mirrors of the structs it shares with its object (ring buffer records, map keys and values),
    /// each [KernelStruct("c_name")]: a test checks size and every field offset against the object's BTF.
    /// </summary>
    public virtual IReadOnlyList<Type> Mirrors => [];

    /// <summary>Decodes a record of ring buffer `events`.</summary>
    public virtual ITraceRecord Decode(ReadOnlySpan<byte> record) =>
        throw new NotSupportedException($"gadget '{Name}' streams no records");

    /// <summary>Writes a record without decoding it into objects (a measured hot path); false: use <see cref="Decode"/>.</summary>
    public virtual bool TryWriteFast(TraceWriter writer, ReadOnlySpan<byte> record, IReadOnlyList<string> columns) => false;

    /// <summary>Prints what the kernel summed in its maps (type "total" at the end, "interval" every --interval).</summary>
    public virtual void WriteAggregates(GadgetReport report, string type)
    {
    }

    /// <summary>Processes that have rows in its maps (whose mappings the session keeps for their stacks).</summary>
    public virtual IEnumerable<uint> PidsWithRows(IGadgetInstance instance) => [];

    public override string ToString() => Name;
}

/// <summary>What a gadget's <see cref="Gadget.WriteAggregates"/> writes with: the output, the maps, the options, stacks.</summary>
public abstract class GadgetReport
{
    public abstract TraceWriter Writer { get; }

    public abstract IGadgetInstance Instance { get; }

    public abstract TraceOptions Options { get; }

    /// <summary>
    /// The rows to print of <paramref name="rows"/> (ordered, largest first): the first --top of them; the others
    /// are counted (a line says how many, the summary too) and never symbolized.
    /// </summary>
    public IReadOnlyList<T> Shown<T>(IReadOnlyList<T> rows)
    {
        int top = Options.Top;
        if (top <= 0 || rows.Count <= top)
        {
            NotShown = 0;
            return rows;
        }
        NotShown = (ulong)(rows.Count - top);
        return rows.Take(top).ToArray();
    }

    /// <summary>Rows <see cref="Shown"/> left out of the last report.</summary>
    public ulong NotShown { get; private set; }

    /// <summary>The line that says how many rows were left out (nothing when none; text only).</summary>
    public void WriteNotShown()
    {
        if (NotShown > 0)
        {
            Writer.Text($"({NotShown} more rows not shown: --top {Options.Top}; --top 0 prints all)\n");
        }
    }

    /// <summary>Symbolized frames of stack <paramref name="id"/> in map `stacks`, innermost first, without the probe's own frames.</summary>
    public abstract IReadOnlyList<string> KernelStack(int id);

    /// <summary>Symbolized frames of a user stack of process <paramref name="pid"/>, innermost first, junk past the last mapped frame cut.</summary>
    public abstract IReadOnlyList<string> UserStack(int id, uint pid);
}
