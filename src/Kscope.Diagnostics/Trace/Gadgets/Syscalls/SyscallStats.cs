namespace Kscope.Diagnostics.Trace.Gadgets.Syscalls;

/// <summary>A decoded <see cref="SyscallStatsValue"/> of syscall <c>Number</c>.</summary>
public sealed record SyscallStats(uint Number, string Name, ulong Count, ulong Errors, ulong TotalNs, ulong MaxNs, Log2Histogram Histogram) : ITraceRecord
{
    public const int Size = 352;

    public ulong TimestampNs => 0;

    public static unsafe SyscallStats Parse(uint number, ReadOnlySpan<byte> value)
    {
        SyscallStatsValue v = Mirror.Read<SyscallStatsValue>(value, "syscall stats");
        ulong[] slots = new ReadOnlySpan<ulong>(v.Slots, 40).ToArray();
        return new SyscallStats(number, SyscallNames.Name(number), v.Count, v.Errors, v.TotalNs, v.MaxNs, new Log2Histogram(slots));
    }

    public IReadOnlyList<TraceField> Fields() =>
    [
        new("syscall", Name), new("nr", (long)Number), new("count", Count), new("errors", Errors),
        new("total_ns", TotalNs), new("avg_ns", Count == 0 ? 0UL : TotalNs / Count), new("p99_ns", Math.Min(Histogram.Quantile(0.99), MaxNs)),
        new("max_ns", MaxNs), new("hist_log2_ns", Histogram.Slots),
    ];
}
