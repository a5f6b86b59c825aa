using System.Net;
using Kscope.Formats;

namespace Kscope.Diagnostics.Trace.Records;

/// <summary>
/// struct tcp_event (bpf/gadgets/tcp.bpf.c), 120 bytes: header (the owning process), skaddr u64 @48,
/// latency_ns u64 @56, kind u32 @64, oldstate s32 @68, newstate s32 @72, result s32 @76, family u16 @80,
/// sport u16 @82, dport u16 @84, saddr[16] @88, daddr[16] @104 (IPv4 in the first 4 bytes).
/// </summary>
public sealed record TcpRecord(EventHeader Header, ulong Socket, ulong LatencyNs, TcpEventKind Kind, int OldState, int NewState,
    int Result, IPAddress Source, ushort SourcePort, IPAddress Destination, ushort DestinationPort) : ITraceRecord
{
    public const int Size = 120;

    private static readonly string[] s_states =
        ["", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV", "BOUND_INACTIVE"];

    public ulong TimestampNs => Header.TimestampNs;

    public static TcpRecord Parse(ReadOnlySpan<byte> data)
    {
        var reader = new SpanReader(data, "tcp record");
        EventHeader header = EventHeader.Read(ref reader);
        ulong sk = reader.U64();
        ulong latency = reader.U64();
        uint kind = reader.U32();
        if (kind is < 1 or > 6)
        {
            throw new MalformedDataException("tcp record", 64, $"unknown event kind {kind}");
        }
        int oldState = reader.I32();
        int newState = reader.I32();
        int result = reader.I32();
        ushort family = reader.U16();
        ushort sport = reader.U16();
        ushort dport = reader.U16();
        reader.Skip(2);
        ReadOnlySpan<byte> saddr = reader.Take(16);
        ReadOnlySpan<byte> daddr = reader.Take(16);
        IPAddress source = family == 10 ? new IPAddress(saddr) : new IPAddress(saddr[..4]);
        IPAddress destination = family == 10 ? new IPAddress(daddr) : new IPAddress(daddr[..4]);
        return new TcpRecord(header, sk, latency, (TcpEventKind)kind, oldState, newState, result, source, sport, destination, dport);
    }

    public static string StateName(int state) => state >= 0 && state < s_states.Length && state > 0 ? s_states[state] : state.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public IReadOnlyList<TraceField> Fields()
    {
        var f = new List<TraceField>();
        Header.AddTo(f);
        f.Add(new("event", Kind.ToString().ToLowerInvariant()));
        f.Add(new("saddr", Source.ToString()));
        f.Add(new("sport", (long)SourcePort));
        f.Add(new("daddr", Destination.ToString()));
        f.Add(new("dport", (long)DestinationPort));
        f.Add(new("old_state", StateName(OldState)));
        f.Add(new("new_state", StateName(NewState)));
        f.Add(new("latency_ns", LatencyNs));
        f.Add(new("ok", Kind != TcpEventKind.Connect || Result == 0));
        return f;
    }
}

/// <summary>enum tcp_kind in bpf/gadgets/tcp.bpf.c.</summary>
public enum TcpEventKind
{
    Connect = 1,
    Accept = 2,
    Listen = 3,
    Close = 4,
    State = 5,
    Retransmit = 6,
}
