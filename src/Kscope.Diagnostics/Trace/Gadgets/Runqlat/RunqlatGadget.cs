namespace Kscope.Diagnostics.Trace.Gadgets.Runqlat;

/// <summary><c>trace runqlat</c>: run-queue latency histograms per process; waits longer than --slow streamed.</summary>
public sealed class RunqlatGadget : Gadget
{
    public override string Name => "runqlat";

    public override string Summary => "run-queue latency (runnable to running) histogram per process; waits longer than --slow";

    public override GadgetKind Kind => GadgetKind.Aggregate;

    public override IReadOnlyList<string> Needs { get; } =
        ["raw_tracepoint:sched_switch", "raw_tracepoint:sched_wakeup", "raw_tracepoint:sched_wakeup_new", "map:ringbuf", .. GadgetCatalog.FilterNeeds];

    public override IReadOnlyList<string> Columns { get; } = ["pid", "comm", "count", "avg_ns", "p99_ns", "max_ns"];

    public override IReadOnlyList<string>? StreamColumns { get; } = ["pid", "tid", "comm", "wait_ns", "cpu", "prev_tid", "prev_comm"];

    public override IReadOnlyDictionary<string, IReadOnlyList<string>> Schema { get; } = new Dictionary<string, IReadOnlyList<string>>
    {
        ["event"] = [.. EventHeader.Keys, "wait_ns", "cpu", "prev_tid", "prev_comm"],
        ["total"] = ["pid", "comm", "count", "avg_ns", "p99_ns", "max_ns", "hist_log2_ns"],
    };

    public override IReadOnlyList<Type> Mirrors { get; } = [typeof(RunqEvent), typeof(RunqHistValue), typeof(EventHeaderMirror)];

    public override ITraceRecord Decode(ReadOnlySpan<byte> record) => RunqRecord.Parse(record);

    public override void WriteAggregates(GadgetReport report, string type)
    {
        TraceWriter writer = report.Writer;
        var rows = report.Instance.MapEntries("hists").Select(e => RunqHistogram.Parse(BitConverter.ToUInt32(e.Key), e.Value))
            .OrderByDescending(h => h.TotalNs).ToList();
        writer.NewTable();
        writer.Text($"\n-- run-queue latency ({type}) --\n");
        foreach (RunqHistogram h in rows)
        {
            writer.Write(h, type);
            writer.Text(h.Histogram.Render(Durations.Format));
        }
    }
}
