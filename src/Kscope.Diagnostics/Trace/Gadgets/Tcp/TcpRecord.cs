using System.Net;
using Kscope.Formats;

namespace Kscope.Diagnostics.Trace.Gadgets.Tcp;

/// <summary>
/// A decoded <see cref="TcpEvent"/> (addresses: IPv4 in the first 4 bytes). A failed connect carries
/// -errno as the kernel recorded it on the socket (ECONNREFUSED, ETIMEDOUT), -1 when none.
/// </summary>
public sealed record TcpRecord(EventHeader Header, ulong Socket, ulong LatencyNs, TcpEventKind Kind, int OldState, int NewState,
    int Result, IPAddress Source, ushort SourcePort, IPAddress Destination, ushort DestinationPort) : ITraceRecord
{
    public const int Size = 120;

    private static readonly string[] s_states =
        ["", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV", "BOUND_INACTIVE"];

    public ulong TimestampNs => Header.TimestampNs;

    public static unsafe TcpRecord Parse(ReadOnlySpan<byte> data)
    {
        TcpEvent e = Mirror.Read<TcpEvent>(data, "tcp record");
        if (e.Kind is < 1 or > 6)
        {
            throw new MalformedDataException("tcp record", 64, $"unknown event kind {e.Kind}");
        }
        var saddr = new ReadOnlySpan<byte>(e.Saddr, 16);
        var daddr = new ReadOnlySpan<byte>(e.Daddr, 16);
        IPAddress source = e.Family == 10 ? new IPAddress(saddr) : new IPAddress(saddr[..4]);
        IPAddress destination = e.Family == 10 ? new IPAddress(daddr) : new IPAddress(daddr[..4]);
        return new TcpRecord(EventHeader.From(e.H), e.Skaddr, e.LatencyNs, (TcpEventKind)e.Kind, e.Oldstate, e.Newstate, e.Result,
            source, e.Sport, destination, e.Dport);
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
        bool failed = Kind == TcpEventKind.Connect && Result != 0;
        f.Add(new("ok", !failed));
        f.Add(new("error", !failed ? null : Result < -1 ? Errors.Name(-Result) : "failed"));
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
