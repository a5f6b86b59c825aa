namespace Kscope.Diagnostics.Trace.Gadgets.Syscalls;

/// <summary>
/// <c>trace syscalls</c>: per-syscall counts, errors and latency histograms summed in the kernel, and every
/// call slower than --slow streamed with its arguments (with --slow 0 every call: the formatting hot path
/// <see cref="TraceWriter.TryWriteSyscallEvent"/>, measured in bench/trace/run).
/// </summary>
public sealed class SyscallsGadget : Gadget
{
    public override string Name => "syscalls";

    public override string Summary => "per-syscall counts, errors and latency histograms; calls slower than --slow with arguments";

    public override GadgetKind Kind => GadgetKind.Aggregate;

    public override IReadOnlyList<string> Needs { get; } =
        ["raw_tracepoint:sys_enter", "raw_tracepoint:sys_exit", "raw_tracepoint:sched_process_exit", "map:ringbuf", .. GadgetCatalog.FilterNeeds];

    public override IReadOnlyList<string> Columns { get; } = ["syscall", "count", "errors", "avg_ns", "p99_ns", "max_ns"];

    public override IReadOnlyList<string>? StreamColumns { get; } = ["pid", "tid", "comm", "syscall", "latency_ns", "result", "error", "args"];

    public override IReadOnlyDictionary<string, IReadOnlyList<string>> Schema { get; } = new Dictionary<string, IReadOnlyList<string>>
    {
        ["event"] = [.. EventHeader.Keys, "syscall", "nr", "latency_ns", "result", "error", "args"],
        ["total"] = ["syscall", "nr", "count", "errors", "total_ns", "avg_ns", "p99_ns", "max_ns", "hist_log2_ns"],
    };

    // with --slow 0 every syscall is a record: 8 MiB (65536 records) rides out the reader's
    // scheduling delays on a busy machine where the object's 256 KiB (2048) overflows in ms
    public override uint? EventsBytes => 8u << 20;

    public override IReadOnlyList<Type> Mirrors { get; } = [typeof(SlowSyscallEvent), typeof(SyscallStatsValue), typeof(EventHeaderMirror)];

    public override ITraceRecord Decode(ReadOnlySpan<byte> record) => SlowSyscallRecord.Parse(record);

    public override bool TryWriteFast(TraceWriter writer, ReadOnlySpan<byte> record, IReadOnlyList<string> columns) =>
        writer.TryWriteSyscallEvent(record, columns);

    public override void WriteAggregates(GadgetReport report, string type)
    {
        TraceWriter writer = report.Writer;
        var rows = report.Instance.MapEntries("stats").Select(e => SyscallStats.Parse(BitConverter.ToUInt32(e.Key), e.Value))
            .OrderByDescending(s => s.TotalNs).ToList();
        writer.NewTable();
        writer.Text($"\n-- syscalls ({type}) --\n");
        rows.ForEach(r => writer.Write(r, type));
        var all = new Log2Histogram(new ulong[40]);
        rows.ForEach(r => all.Add(r.Histogram));
        writer.Text("\nlatency of all syscalls:\n" + all.Render(Durations.Format));
    }
}
