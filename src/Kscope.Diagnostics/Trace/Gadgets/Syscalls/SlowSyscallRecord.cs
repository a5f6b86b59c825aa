namespace Kscope.Diagnostics.Trace.Gadgets.Syscalls;

/// <summary>A decoded <see cref="SlowSyscallEvent"/>.</summary>
public sealed record SlowSyscallRecord(EventHeader Header, long Id, string Name, long Result, ulong LatencyNs, ulong[] Args) : ITraceRecord
{
    public const int Size = 120;

    public ulong TimestampNs => Header.TimestampNs;

    public static unsafe SlowSyscallRecord Parse(ReadOnlySpan<byte> data)
    {
        SlowSyscallEvent e = Mirror.Read<SlowSyscallEvent>(data, "syscall record");
        ulong[] args = new ReadOnlySpan<ulong>(e.Args, 6).ToArray();
        return new SlowSyscallRecord(EventHeader.From(e.H), e.Id, SyscallNames.Name(e.Id), e.Ret, e.LatencyNs, args);
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
