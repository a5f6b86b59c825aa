using Kscope.Formats;

namespace Kscope.Diagnostics.Trace.Gadgets.Exec;

/// <summary>A decoded <see cref="ExecEvent"/>: argv is NUL-separated in the record, each argument cut to 127 bytes.</summary>
public sealed record ExecRecord(EventHeader Header, uint ParentPid, int Result, string Filename, IReadOnlyList<string> Args, bool ArgsTruncated) : ITraceRecord
{
    public const int Size = 968;

    public ulong TimestampNs => Header.TimestampNs;

    public static unsafe ExecRecord Parse(ReadOnlySpan<byte> data)
    {
        ExecEvent e = Mirror.Read<ExecEvent>(data, "exec record");
        var args = new ReadOnlySpan<byte>(e.Args, 640);
        if (e.ArgsSize > (uint)args.Length)
        {
            throw new MalformedDataException("exec record", 60, $"args_size {e.ArgsSize} exceeds the {args.Length}-byte argument buffer");
        }
        var list = new List<string>();
        ReadOnlySpan<byte> rest = args[..(int)e.ArgsSize];
        while (!rest.IsEmpty && list.Count < e.ArgsCount)
        {
            int end = rest.IndexOf((byte)0);
            list.Add(System.Text.Encoding.UTF8.GetString(end < 0 ? rest : rest[..end]));
            rest = end < 0 ? default : rest[(end + 1)..];
        }
        return new ExecRecord(EventHeader.From(e.H), e.Ppid, e.Retval, Mirror.CString(e.Filename, 256), list, e.ArgsTruncated != 0);
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
