namespace Kscope.Diagnostics.Trace;

/// <summary>
/// A built-in gadget: its name on the command line, what it shows, the kernel hooks it needs (probed
/// by <see cref="GadgetCatalog.Check"/>), its default columns and its eBPF object (null for polling gadgets).
/// </summary>
public sealed record Gadget(string Name, string Summary, GadgetKind Kind, IReadOnlyList<string> Needs, IReadOnlyList<string> Columns, string? Object)
{
    /// <summary>Program sections (ending) whose attach may fail on kernels without the hook (openat2 before 5.6).</summary>
    public IReadOnlyList<string> Optional { get; init; } = [];

    /// <summary>Columns of the records an aggregating gadget streams (slow calls, long waits); null: <see cref="Columns"/>.</summary>
    public IReadOnlyList<string>? StreamColumns { get; init; }

    /// <summary>
    /// Size of ring buffer `events` set before load (a power of two of pages, as libbpf's
    /// bpf_map__set_max_entries does), when the object's default is too small for the gadget's rate; null: the object's.
    /// </summary>
    public uint? EventsBytes { get; init; }
}
