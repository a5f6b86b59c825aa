namespace Kscope.Diagnostics.Trace.Gadgets.Futex;

/// <summary>One entry of map `totals` in bpf/gadgets/futex.bpf.c (<see cref="FutexKey"/>, <see cref="FutexValue"/>).</summary>
public sealed record FutexEntry(uint Pid, int UserStackId, ulong Address, ulong Count, ulong TotalNs, ulong MaxNs, ulong MaxWaiters,
    ulong Timeouts, string Comm) : ITraceRecord
{
    public const int KeySize = 16;
    public const int ValueSize = 56;

    public IReadOnlyList<string> UserStack { get; init; } = [];

    public ulong TimestampNs => 0;

    public static unsafe FutexEntry Parse(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        FutexKey k = Mirror.Read<FutexKey>(key, "futex key");
        FutexValue v = Mirror.Read<FutexValue>(value, "futex value");
        return new FutexEntry(k.Tgid, k.Ustack, k.Uaddr, v.Count, v.TotalNs, v.MaxNs, v.MaxWaiters, v.Timeouts, Mirror.CString(v.Comm, 16));
    }

    public IReadOnlyList<TraceField> Fields() =>
    [
        new("pid", (long)Pid), new("comm", Comm), new("address", $"0x{Address:x}"), new("waits", Count), new("total_ns", TotalNs),
        new("avg_ns", Count == 0 ? 0UL : TotalNs / Count), new("max_ns", MaxNs), new("max_waiters", MaxWaiters), new("timeouts", Timeouts),
        new("user_stack", UserStack.ToArray()),
    ];
}
