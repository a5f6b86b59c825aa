using System.Text;

namespace Kscope.Diagnostics.Trace;

/// <summary>
/// The decoded header: ts_ns u64, cgroup_id u64, tgid u32, tid u32, uid u32, ns_tgid u32, comm[16].
/// </summary>
public readonly record struct EventHeader(ulong TimestampNs, ulong CgroupId, uint Pid, uint Tid, uint Uid, uint NamespacePid, string Comm)
{
    public const int Size = 48;

    public static unsafe EventHeader From(EventHeaderMirror h) =>
        new(h.TsNs, h.CgroupId, h.Tgid, h.Tid, h.Uid, h.NsTgid, Mirror.CString(h.Comm, 16));

    /// <summary>The common fields, in schema order: time, pid, tid, ns_pid, uid, comm, cgroup_id.</summary>
    public void AddTo(List<TraceField> fields)
    {
        fields.Add(new("time_ns", TimestampNs));
        fields.Add(new("pid", (long)Pid));
        fields.Add(new("tid", (long)Tid));
        fields.Add(new("ns_pid", (long)NamespacePid));
        fields.Add(new("uid", (long)Uid));
        fields.Add(new("comm", Comm));
        fields.Add(new("cgroup_id", CgroupId));
    }

    /// <summary>The keys <see cref="AddTo"/> writes, for gadgets' schemas.</summary>
    public static IReadOnlyList<string> Keys { get; } = ["time_ns", "pid", "tid", "ns_pid", "uid", "comm", "cgroup_id"];

    /// <summary>A NUL-terminated string in a fixed buffer (the whole buffer when no NUL).</summary>
    public static string CString(ReadOnlySpan<byte> bytes)
    {
        int end = bytes.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? bytes : bytes[..end]);
    }
}
