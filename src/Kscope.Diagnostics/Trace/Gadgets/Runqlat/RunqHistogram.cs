namespace Kscope.Diagnostics.Trace.Gadgets.Runqlat;

/// <summary>A decoded <see cref="RunqHistValue"/> of process <c>Pid</c>: log2 buckets of nanoseconds.</summary>
public sealed record RunqHistogram(uint Pid, string Comm, ulong Count, ulong TotalNs, ulong MaxNs, Log2Histogram Histogram) : ITraceRecord
{
    public const int Size = 360;

    public ulong TimestampNs => 0;

    public static unsafe RunqHistogram Parse(uint pid, ReadOnlySpan<byte> value)
    {
        RunqHistValue v = Mirror.Read<RunqHistValue>(value, "runqlat histogram");
        ulong[] slots = new ReadOnlySpan<ulong>(v.Slots, 40).ToArray();
        return new RunqHistogram(pid, Mirror.CString(v.Comm, 16), v.Count, v.TotalNs, v.MaxNs, new Log2Histogram(slots));
    }

    public IReadOnlyList<TraceField> Fields() =>
    [
        new("pid", (long)Pid), new("comm", Comm), new("count", Count), new("avg_ns", Count == 0 ? 0UL : TotalNs / Count),
        new("p99_ns", Math.Min(Histogram.Quantile(0.99), MaxNs)), new("max_ns", MaxNs),
        new("hist_log2_ns", Histogram.Slots),
    ];
}
