namespace Kscope.Diagnostics.Trace;

/// <summary>
/// A built-in gadget: its name on the command line, what it shows, the kernel hooks it needs (probed
/// by <see cref="GadgetCatalog.Check"/>), its default columns and its eBPF object (null for polling gadgets).
/// </summary>
public sealed record Gadget(string Name, string Summary, GadgetKind Kind, IReadOnlyList<string> Needs, IReadOnlyList<string> Columns, string? Object)
{
    /// <summary>Hooks that improve the gadget but whose absence it survives.</summary>
    public IReadOnlyList<string> Optional { get; init; } = [];
}
