using Kscope.Formats;

namespace Kscope.Diagnostics.Trace.Records;

/// <summary>
/// struct runq_event (bpf/gadgets/runqlat.bpf.c), 80 bytes: header (the waiting task), wait_ns u64 @48,
/// prev_tid u32 @56, cpu u32 @60, prev_comm[16] @64.
/// </summary>
public sealed record RunqRecord(EventHeader Header, ulong WaitNs, uint PreviousTid, uint Cpu, string PreviousComm) : ITraceRecord
{
    public const int Size = 80;

    public ulong TimestampNs => Header.TimestampNs;

    public static RunqRecord Parse(ReadOnlySpan<byte> data)
    {
        var reader = new SpanReader(data, "runqlat record");
        EventHeader header = EventHeader.Read(ref reader);
        return new RunqRecord(header, reader.U64(), reader.U32(), reader.U32(), EventHeader.CString(reader.Take(16)));
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
