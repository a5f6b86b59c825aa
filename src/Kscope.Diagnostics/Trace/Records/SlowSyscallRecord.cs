using Kscope.Formats;

namespace Kscope.Diagnostics.Trace.Records;

/// <summary>
/// struct slow_syscall_event (bpf/gadgets/syscalls.bpf.c), 120 bytes: header, id s64 @48, ret s64 @56,
/// latency_ns u64 @64, args[6] u64 @72.
/// </summary>
public sealed record SlowSyscallRecord(EventHeader Header, long Id, string Name, long Result, ulong LatencyNs, ulong[] Args) : ITraceRecord
{
    public const int Size = 120;

    public ulong TimestampNs => Header.TimestampNs;

    public static SlowSyscallRecord Parse(ReadOnlySpan<byte> data)
    {
        var reader = new SpanReader(data, "syscall record");
        EventHeader header = EventHeader.Read(ref reader);
        long id = reader.I64();
        long ret = reader.I64();
        ulong latency = reader.U64();
        ulong[] args = new ulong[6];
        for (int i = 0; i < args.Length; i++)
        {
            args[i] = reader.U64();
        }
        return new SlowSyscallRecord(header, id, SyscallNames.Name(id), ret, latency, args);
    }

    public IReadOnlyList<TraceField> Fields()
    {
        var f = new List<TraceField>();
        Header.AddTo(f);
        f.Add(new("syscall", Name));
        f.Add(new("nr", Id));
        f.Add(new("latency_ns", LatencyNs));
        f.Add(new("result", Result));
        f.Add(new("error", Result is < 0 and > -4096 ? Errors.Name(-Result) : null));
        f.Add(new("args", Args.Select(a => $"0x{a:x}").ToArray()));
        return f;
    }
}
