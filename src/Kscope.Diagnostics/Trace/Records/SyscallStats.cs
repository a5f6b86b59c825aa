using Kscope.Formats;

namespace Kscope.Diagnostics.Trace.Records;

/// <summary>
/// Value of map `stats` in bpf/gadgets/syscalls.bpf.c (key: syscall number u32), 352 bytes: count,
/// errors, total_ns, max_ns (u64 each), slots[40] u64 (log2 ns).
/// </summary>
public sealed record SyscallStats(uint Number, string Name, ulong Count, ulong Errors, ulong TotalNs, ulong MaxNs, Log2Histogram Histogram) : ITraceRecord
{
    public const int Size = 352;

    public ulong TimestampNs => 0;

    public static SyscallStats Parse(uint number, ReadOnlySpan<byte> value)
    {
        var reader = new SpanReader(value, "syscall stats");
        ulong count = reader.U64(), errors = reader.U64(), total = reader.U64(), max = reader.U64();
        ulong[] slots = new ulong[40];
        for (int i = 0; i < slots.Length; i++)
        {
            slots[i] = reader.U64();
        }
        return new SyscallStats(number, SyscallNames.Name(number), count, errors, total, max, new Log2Histogram(slots));
    }

    public IReadOnlyList<TraceField> Fields() =>
    [
        new("syscall", Name), new("nr", (long)Number), new("count", Count), new("errors", Errors),
        new("total_ns", TotalNs), new("avg_ns", Count == 0 ? 0UL : TotalNs / Count), new("p99_ns", Math.Min(Histogram.Quantile(0.99), MaxNs)),
        new("max_ns", MaxNs), new("hist_log2_ns", Histogram.Slots),
    ];
}
