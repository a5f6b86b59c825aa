namespace Kscope.Diagnostics.Trace.Gadgets.Open;

/// <summary>
/// <c>trace open</c>: openat/openat2 calls with path, flags, fd or errno and latency. Hooked on the raw sys_enter and
/// sys_exit tracepoints (bpf/gadgets/gadget.h says why: they detach without waiting), so a kernel without openat2
/// (before 5.6) simply never sees its number.
/// </summary>
public sealed class OpenGadget : Gadget
{
    public override string Name => "open";

    public override string Summary => "file opens: path, flags, fd or errno, latency";

    public override GadgetKind Kind => GadgetKind.Stream;

    public override IReadOnlyList<string> Needs { get; } =
        ["raw_tracepoint:sys_enter", "raw_tracepoint:sys_exit", "map:ringbuf", .. GadgetCatalog.FilterNeeds];

    public override IReadOnlyList<string> Columns { get; } = ["pid", "comm", "fd", "error", "latency_ns", "flags", "path"];

    public override IReadOnlyDictionary<string, IReadOnlyList<string>> Schema { get; } = new Dictionary<string, IReadOnlyList<string>>
    {
        ["event"] = [.. EventHeader.Keys, "fd", "error", "latency_ns", "flags", "mode", "path"],
    };

    public override IReadOnlyList<Type> Mirrors { get; } = [typeof(OpenEvent), typeof(EventHeaderMirror)];

    public override ITraceRecord Decode(ReadOnlySpan<byte> record) => OpenRecord.Parse(record);
}
