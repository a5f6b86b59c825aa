namespace Kscope.Diagnostics.Trace.Gadgets.Tcp;

/// <summary>
/// <c>trace tcp</c>: connects (latency, failures with their errno), accepts, listens, closes, state changes
/// and retransmits. Sockets are attributed to the process that connected, listened or accepted; a connection a
/// listener receives belongs to the listener's process from SYN_RECV on.
/// </summary>
public sealed class TcpGadget : Gadget
{
    public override string Name => "tcp";

    public override string Summary => "TCP connects (latency, failures), accepts, listens, closes, state changes, retransmits";

    public override GadgetKind Kind => GadgetKind.Stream;

    public override IReadOnlyList<string> Needs { get; } =
        ["tracepoint:sock/inet_sock_set_state", "tracepoint:tcp/tcp_retransmit_skb", "raw_tracepoint:sys_exit", "map:ringbuf", .. GadgetCatalog.FilterNeeds];

    // error last: the table cuts every other column to its width, and ECONNREFUSED must show whole
    public override IReadOnlyList<string> Columns { get; } = ["pid", "comm", "event", "saddr", "sport", "daddr", "dport", "new_state", "latency_ns", "error"];

    public override IReadOnlyDictionary<string, IReadOnlyList<string>> Schema { get; } = new Dictionary<string, IReadOnlyList<string>>
    {
        ["event"] = [.. EventHeader.Keys, "event", "saddr", "sport", "daddr", "dport", "old_state", "new_state", "latency_ns", "ok", "error"],
    };

    public override IReadOnlyList<Type> Mirrors { get; } = [typeof(TcpEvent), typeof(EventHeaderMirror)];

    public override ITraceRecord Decode(ReadOnlySpan<byte> record) => TcpRecord.Parse(record);
}
