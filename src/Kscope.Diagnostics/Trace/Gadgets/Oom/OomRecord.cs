namespace Kscope.Diagnostics.Trace.Gadgets.Oom;

/// <summary>A decoded <see cref="OomEvent"/>: the victim and its memory in kB (null where the kernel's tracepoint lacks them).</summary>
public sealed record OomRecord(EventHeader Header, uint VictimPid, uint VictimUid, ulong TotalVmKb, ulong AnonRssKb, ulong FileRssKb,
    ulong ShmemRssKb, ulong PageTablesKb, int OomScoreAdj, bool HasFigures, string VictimComm) : ITraceRecord
{
    public const int Size = 120;

    public ulong TimestampNs => Header.TimestampNs;

    public static unsafe OomRecord Parse(ReadOnlySpan<byte> data)
    {
        OomEvent e = Mirror.Read<OomEvent>(data, "oom record");
        return new OomRecord(EventHeader.From(e.H), e.VictimPid, e.VictimUid, e.TotalVmKb, e.AnonRssKb, e.FileRssKb, e.ShmemRssKb, e.PgtablesKb,
            e.OomScoreAdj, e.HasFigures != 0, Mirror.CString(e.VictimComm, 16));
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
