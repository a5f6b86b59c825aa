namespace Kscope.Diagnostics.Trace.Gadgets.OffCpu;

/// <summary><c>trace offcpu</c>: time threads spend blocked, by kernel and user stack, summed in the kernel.</summary>
public sealed class OffCpuGadget : Gadget
{
    public override string Name => "offcpu";

    public override string Summary => "time threads spend blocked, by kernel and user stack, with the waker of the longest block (summed in the kernel)";

    public override GadgetKind Kind => GadgetKind.Aggregate;

    public override IReadOnlyList<string> Needs { get; } =
        ["tracepoint:sched/sched_switch", "tracepoint:sched/sched_wakeup", "map:stack_trace", .. GadgetCatalog.FilterNeeds];

    public override IReadOnlyList<string> Columns { get; } = ["pid", "tid", "comm", "total_ns", "count", "max_ns", "waker_comm"];

    public override IReadOnlyDictionary<string, IReadOnlyList<string>> Schema { get; } = new Dictionary<string, IReadOnlyList<string>>
    {
        ["total"] = ["pid", "tid", "comm", "total_ns", "count", "max_ns", "waker_pid", "waker_comm", "kernel_stack", "user_stack"],
    };

    public override bool NeedsStacks => true;

    public override bool KernelStacks => true;

    public override bool RequestsMaps => true;

    public override IReadOnlyList<Type> Mirrors { get; } = [typeof(OffCpuKey), typeof(OffCpuValue), typeof(MapsRequest)];

    public override void WriteAggregates(GadgetReport report, string type)
    {
        TraceWriter writer = report.Writer;
        ulong threshold = (ulong)(report.Options.Slow.TotalMilliseconds * 1_000_000);
        var rows = report.Instance.MapEntries("totals").Select(e => OffCpuEntry.Parse(e.Key, e.Value))
            .Where(e => e.TotalNs >= threshold).OrderByDescending(e => e.TotalNs).ToList();
        writer.NewTable();
        writer.Text($"\n-- off-CPU time >= {Durations.Format(threshold)} ({type}) --\n");
        foreach (OffCpuEntry e in report.Shown(rows))
        {
            OffCpuEntry full = e with { KernelStack = report.KernelStack(e.KernelStackId), UserStack = report.UserStack(e.UserStackId, e.Pid) };
            writer.Write(full, type);
            writer.Text(string.Concat(full.KernelStack.Concat(full.UserStack).Select(f => $"    {f}\n")));
        }
        report.WriteNotShown();
    }

    public override IEnumerable<uint> PidsWithRows(IGadgetInstance instance) =>
        instance.MapEntries("totals").Select(e => OffCpuEntry.Parse(e.Key, e.Value).Pid);
}
