using Kscope.Formats;

namespace Kscope.Diagnostics.Trace.Records;

/// <summary>
/// Value of map `hists` in bpf/gadgets/runqlat.bpf.c (key: tgid u32), 360 bytes: count, total_ns,
/// max_ns u64, slots[40] u64 (log2 ns), comm[16].
/// </summary>
public sealed record RunqHistogram(uint Pid, string Comm, ulong Count, ulong TotalNs, ulong MaxNs, Log2Histogram Histogram) : ITraceRecord
{
    public const int Size = 360;

    public ulong TimestampNs => 0;

    public static RunqHistogram Parse(uint pid, ReadOnlySpan<byte> value)
    {
        var reader = new SpanReader(value, "runqlat histogram");
        ulong count = reader.U64(), total = reader.U64(), max = reader.U64();
        ulong[] slots = new ulong[40];
        for (int i = 0; i < slots.Length; i++)
        {
            slots[i] = reader.U64();
        }
        return new RunqHistogram(pid, EventHeader.CString(reader.Take(16)), count, total, max, new Log2Histogram(slots));
    }

    public IReadOnlyList<TraceField> Fields() =>
    [
        new("pid", (long)Pid), new("comm", Comm), new("count", Count), new("avg_ns", Count == 0 ? 0UL : TotalNs / Count),
        new("p99_ns", Math.Min(Histogram.Quantile(0.99), MaxNs)), new("max_ns", MaxNs),
        new("hist_log2_ns", Histogram.Slots),
    ];
}
