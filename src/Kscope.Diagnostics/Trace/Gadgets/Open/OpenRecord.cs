namespace Kscope.Diagnostics.Trace.Gadgets.Open;

/// <summary>A decoded <see cref="OpenEvent"/>.</summary>
public sealed record OpenRecord(EventHeader Header, ulong LatencyNs, long Result, ulong Flags, uint Mode, int DirFd, string Path) : ITraceRecord
{
    public const int Size = 336;

    public ulong TimestampNs => Header.TimestampNs;

    public static unsafe OpenRecord Parse(ReadOnlySpan<byte> data)
    {
        OpenEvent e = Mirror.Read<OpenEvent>(data, "open record");
        return new OpenRecord(EventHeader.From(e.H), e.LatencyNs, e.Ret, e.Flags, e.Mode, e.Dfd, Mirror.CString(e.Path, 256));
    }

    /// <summary>The syscall's result (fd, or -errno) of a record, without decoding its path.</summary>
    public static long ResultOf(ReadOnlySpan<byte> data) => Mirror.Read<OpenEvent>(data, "open record").Ret;

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
