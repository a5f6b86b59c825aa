using Kscope.Formats;

namespace Kscope.Diagnostics.Trace.Records;

/// <summary>
/// struct open_event (bpf/gadgets/open.bpf.c), 336 bytes: header, latency_ns u64 @48, ret s64 @56,
/// flags u64 @64, mode u32 @72, dfd s32 @76, path[256] @80.
/// </summary>
public sealed record OpenRecord(EventHeader Header, ulong LatencyNs, long Result, ulong Flags, uint Mode, int DirFd, string Path) : ITraceRecord
{
    public const int Size = 336;

    public ulong TimestampNs => Header.TimestampNs;

    public static OpenRecord Parse(ReadOnlySpan<byte> data)
    {
        var reader = new SpanReader(data, "open record");
        EventHeader header = EventHeader.Read(ref reader);
        return new OpenRecord(header, reader.U64(), reader.I64(), reader.U64(), reader.U32(), reader.I32(), EventHeader.CString(reader.Take(256)));
    }

    public IReadOnlyList<TraceField> Fields()
    {
        var f = new List<TraceField>();
        Header.AddTo(f);
        f.Add(new("fd", Result >= 0 ? Result : null));
        f.Add(new("error", Result < 0 ? Errors.Name((int)-Result) : null));
        f.Add(new("latency_ns", LatencyNs));
        f.Add(new("flags", OpenFlagNames.Describe(Flags)));
        f.Add(new("mode", Convert.ToString(Mode, 8)));
        f.Add(new("path", Path));
        return f;
    }
}
