namespace Kscope.Diagnostics.Trace.Gadgets.Oom;

/// <summary><c>trace oom</c>: OOM kills, the victim's memory, its cgroup and the task that triggered it.</summary>
public sealed class OomGadget : Gadget
{
    public override string Name => "oom";

    public override string Summary => "OOM kills: victim, its memory, the cgroup and the task that triggered it";

    public override GadgetKind Kind => GadgetKind.Stream;

    public override IReadOnlyList<string> Needs { get; } = ["tracepoint:oom/mark_victim", "map:ringbuf", .. GadgetCatalog.FilterNeeds];

    public override IReadOnlyList<string> Columns { get; } = ["victim_pid", "victim_comm", "anon_rss_kb", "file_rss_kb", "pid", "comm", "cgroup_id"];

    public override IReadOnlyDictionary<string, IReadOnlyList<string>> Schema { get; } = new Dictionary<string, IReadOnlyList<string>>
    {
        ["event"] = [.. EventHeader.Keys, "victim_pid", "victim_comm", "victim_uid", "total_vm_kb", "anon_rss_kb", "file_rss_kb", "shmem_rss_kb", "pgtables_kb", "oom_score_adj"],
    };

    public override IReadOnlyList<Type> Mirrors { get; } = [typeof(OomEvent), typeof(EventHeaderMirror)];

    public override ITraceRecord Decode(ReadOnlySpan<byte> record) => OomRecord.Parse(record);
}
