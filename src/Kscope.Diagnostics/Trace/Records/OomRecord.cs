using Kscope.Formats;

namespace Kscope.Diagnostics.Trace.Records;

/// <summary>
/// struct oom_event (bpf/gadgets/oom.bpf.c), 120 bytes: header (the task whose allocation triggered the
/// kill), victim_pid u32 @48, victim_uid u32 @52, total_vm/anon_rss/file_rss/shmem_rss/pgtables kB u64
/// @56..@88, oom_score_adj s32 @96, has_figures u32 @100, victim_comm[16] @104.
/// </summary>
public sealed record OomRecord(EventHeader Header, uint VictimPid, uint VictimUid, ulong TotalVmKb, ulong AnonRssKb, ulong FileRssKb,
    ulong ShmemRssKb, ulong PageTablesKb, int OomScoreAdj, bool HasFigures, string VictimComm) : ITraceRecord
{
    public const int Size = 120;

    public ulong TimestampNs => Header.TimestampNs;

    public static OomRecord Parse(ReadOnlySpan<byte> data)
    {
        var reader = new SpanReader(data, "oom record");
        EventHeader header = EventHeader.Read(ref reader);
        return new OomRecord(header, reader.U32(), reader.U32(), reader.U64(), reader.U64(), reader.U64(), reader.U64(), reader.U64(),
            reader.I32(), reader.U32() != 0, EventHeader.CString(reader.Take(16)));
    }

    public IReadOnlyList<TraceField> Fields()
    {
        var f = new List<TraceField>();
        Header.AddTo(f);
        f.Add(new("victim_pid", (long)VictimPid));
        f.Add(new("victim_comm", VictimComm));
        f.Add(new("victim_uid", HasFigures ? (long)VictimUid : null));
        f.Add(new("total_vm_kb", HasFigures ? TotalVmKb : null));
        f.Add(new("anon_rss_kb", HasFigures ? AnonRssKb : null));
        f.Add(new("file_rss_kb", HasFigures ? FileRssKb : null));
        f.Add(new("shmem_rss_kb", HasFigures ? ShmemRssKb : null));
        f.Add(new("pgtables_kb", HasFigures ? PageTablesKb : null));
        f.Add(new("oom_score_adj", HasFigures ? (long)OomScoreAdj : null));
        return f;
    }
}
