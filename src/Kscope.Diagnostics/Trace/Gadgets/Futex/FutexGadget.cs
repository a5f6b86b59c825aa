namespace Kscope.Diagnostics.Trace.Gadgets.Futex;

/// <summary><c>trace futex</c>: contended futex waits by address and user stack, with waiter counts.</summary>
public sealed class FutexGadget : Gadget
{
    public override string Name => "futex";

    public override string Summary => "contended futex waits by address and user stack, with waiter counts";

    public override GadgetKind Kind => GadgetKind.Aggregate;

    public override IReadOnlyList<string> Needs { get; } =
        ["raw_tracepoint:sys_enter", "raw_tracepoint:sys_exit", "map:stack_trace", .. GadgetCatalog.FilterNeeds];

    public override IReadOnlyList<string> Columns { get; } = ["pid", "comm", "address", "waits", "avg_ns", "max_ns", "max_waiters"];

    public override IReadOnlyDictionary<string, IReadOnlyList<string>> Schema { get; } = new Dictionary<string, IReadOnlyList<string>>
    {
        ["total"] = ["pid", "comm", "address", "waits", "total_ns", "avg_ns", "max_ns", "max_waiters", "timeouts", "user_stack"],
    };

    public override bool NeedsStacks => true;

    public override bool RequestsMaps => true;

    public override IReadOnlyList<Type> Mirrors { get; } = [typeof(FutexKey), typeof(FutexValue), typeof(MapsRequest)];

    public override void WriteAggregates(GadgetReport report, string type)
    {
        TraceWriter writer = report.Writer;
        var rows = report.Instance.MapEntries("totals").Select(e => FutexEntry.Parse(e.Key, e.Value)).OrderByDescending(e => e.TotalNs).ToList();
        writer.NewTable();
        writer.Text($"\n-- contended futex waits ({type}) --\n");
        foreach (FutexEntry e in report.Shown(rows))
        {
            FutexEntry full = e with { UserStack = report.UserStack(e.UserStackId, e.Pid) };
            writer.Write(full, type);
            writer.Text(string.Concat(full.UserStack.Select(f => $"    {f}\n")));
        }
        report.WriteNotShown();
    }

    public override IEnumerable<uint> PidsWithRows(IGadgetInstance instance) =>
        instance.MapEntries("totals").Select(e => FutexEntry.Parse(e.Key, e.Value).Pid);
}
