namespace Kscope.Diagnostics.Trace.Gadgets.Runqlat;

/// <summary>A decoded <see cref="RunqEvent"/>: the header is the task that waited.</summary>
public sealed record RunqRecord(EventHeader Header, ulong WaitNs, uint PreviousTid, uint Cpu, string PreviousComm) : ITraceRecord
{
    public const int Size = 80;

    public ulong TimestampNs => Header.TimestampNs;

    public static unsafe RunqRecord Parse(ReadOnlySpan<byte> data)
    {
        RunqEvent e = Mirror.Read<RunqEvent>(data, "runqlat record");
        return new RunqRecord(EventHeader.From(e.H), e.WaitNs, e.PrevTid, e.Cpu, Mirror.CString(e.PrevComm, 16));
    }

    public IReadOnlyList<TraceField> Fields()
    {
        var f = new List<TraceField>();
        Header.AddTo(f);
        f.Add(new("wait_ns", WaitNs));
        f.Add(new("cpu", (long)Cpu));
        f.Add(new("prev_tid", (long)PreviousTid));
        f.Add(new("prev_comm", PreviousComm));
        return f;
    }
}
