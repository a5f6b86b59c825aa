using Kscope.Formats;

namespace Kscope.Diagnostics.Trace.Records;

/// <summary>
/// struct exec_event (bpf/gadgets/exec.bpf.c), 968 bytes: header, ppid u32 @48, retval s32 @52,
/// args_count u32 @56, args_size u32 @60, args_truncated u8 @64, filename[256] @72, args[640] @328
/// (NUL-separated, each cut to 127 bytes).
/// </summary>
public sealed record ExecRecord(EventHeader Header, uint ParentPid, int Result, string Filename, IReadOnlyList<string> Args, bool ArgsTruncated) : ITraceRecord
{
    public const int Size = 968;

    public ulong TimestampNs => Header.TimestampNs;

    public static ExecRecord Parse(ReadOnlySpan<byte> data)
    {
        var reader = new SpanReader(data, "exec record");
        EventHeader header = EventHeader.Read(ref reader);
        uint ppid = reader.U32();
        int retval = reader.I32();
        uint count = reader.U32();
        uint size = reader.U32();
        bool truncated = reader.U8() != 0;
        reader.Skip(7);
        string filename = EventHeader.CString(reader.Take(256));
        ReadOnlySpan<byte> args = reader.Take(640);
        if (size > (uint)args.Length)
        {
            throw new MalformedDataException("exec record", 60, $"args_size {size} exceeds the {args.Length}-byte argument buffer");
        }
        var list = new List<string>();
        ReadOnlySpan<byte> rest = args[..(int)size];
        while (!rest.IsEmpty && list.Count < count)
        {
            int end = rest.IndexOf((byte)0);
            list.Add(System.Text.Encoding.UTF8.GetString(end < 0 ? rest : rest[..end]));
            rest = end < 0 ? default : rest[(end + 1)..];
        }
        return new ExecRecord(header, ppid, retval, filename, list, truncated);
    }

    public IReadOnlyList<TraceField> Fields()
    {
        var f = new List<TraceField>();
        Header.AddTo(f);
        f.Add(new("ppid", (long)ParentPid));
        f.Add(new("result", (long)Result));
        f.Add(new("error", Result < 0 ? Errors.Name(-Result) : null));
        f.Add(new("filename", Filename));
        f.Add(new("args", Args.ToArray()));
        f.Add(new("args_truncated", ArgsTruncated));
        return f;
    }
}
