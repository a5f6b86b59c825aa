using Kscope.Formats;

namespace Kscope.Diagnostics.Trace.Records;

/// <summary>
/// One entry of map `totals` in bpf/gadgets/futex.bpf.c. Key (16 bytes): tgid u32, ustack s32, uaddr u64.
/// Value (56): count, total_ns, max_ns, max_waiters, timeouts u64, comm[16].
/// </summary>
public sealed record FutexEntry(uint Pid, int UserStackId, ulong Address, ulong Count, ulong TotalNs, ulong MaxNs, ulong MaxWaiters,
    ulong Timeouts, string Comm) : ITraceRecord
{
    public const int KeySize = 16;
    public const int ValueSize = 56;

    public IReadOnlyList<string> UserStack { get; init; } = [];

    public ulong TimestampNs => 0;

    public static FutexEntry Parse(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        var k = new SpanReader(key, "futex key");
        var v = new SpanReader(value, "futex value");
        uint tgid = k.U32();
        int ustack = k.I32();
        ulong uaddr = k.U64();
        return new FutexEntry(tgid, ustack, uaddr, v.U64(), v.U64(), v.U64(), v.U64(), v.U64(), EventHeader.CString(v.Take(16)));
    }

    public IReadOnlyList<TraceField> Fields() =>
    [
        new("pid", (long)Pid), new("comm", Comm), new("address", $"0x{Address:x}"), new("waits", Count), new("total_ns", TotalNs),
        new("avg_ns", Count == 0 ? 0UL : TotalNs / Count), new("max_ns", MaxNs), new("max_waiters", MaxWaiters), new("timeouts", Timeouts),
        new("user_stack", UserStack.ToArray()),
    ];
}
