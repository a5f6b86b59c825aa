namespace Kscope.Diagnostics.Trace.Gadgets.Open;

/// <summary><c>trace open</c>: openat/openat2 calls with path, flags, fd or errno and latency.</summary>
public sealed class OpenGadget : Gadget
{
    public override string Name => "open";

    public override string Summary => "file opens: path, flags, fd or errno, latency";

    public override GadgetKind Kind => GadgetKind.Stream;

    public override IReadOnlyList<string> Needs { get; } =
        ["tracepoint:syscalls/sys_enter_openat", "tracepoint:syscalls/sys_exit_openat", "map:ringbuf", .. GadgetCatalog.FilterNeeds];

    public override IReadOnlyList<string> Columns { get; } = ["pid", "comm", "fd", "error", "latency_ns", "flags", "path"];

    public override IReadOnlyDictionary<string, IReadOnlyList<string>> Schema { get; } = new Dictionary<string, IReadOnlyList<string>>
    {
        ["event"] = [.. EventHeader.Keys, "fd", "error", "latency_ns", "flags", "mode", "path"],
    };

    public override IReadOnlyList<string> Optional { get; } = ["syscalls/sys_enter_openat2", "syscalls/sys_exit_openat2"];

    public override IReadOnlyList<Type> Mirrors { get; } = [typeof(OpenEvent), typeof(EventHeaderMirror)];

    public override ITraceRecord Decode(ReadOnlySpan<byte> record) => OpenRecord.Parse(record);
}
