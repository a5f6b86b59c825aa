using System.Text;
using Kscope.Formats;

namespace Kscope.Diagnostics.Trace;

/// <summary>
/// The 48-byte header every streamed gadget record starts with (struct event_header in
/// bpf/gadgets/gadget.h): ts_ns u64, cgroup_id u64, tgid u32, tid u32, uid u32, ns_tgid u32, comm[16].
/// </summary>
public readonly record struct EventHeader(ulong TimestampNs, ulong CgroupId, uint Pid, uint Tid, uint Uid, uint NamespacePid, string Comm)
{
    public const int Size = 48;

    public static EventHeader Read(ref SpanReader reader) => new(
        reader.U64(), reader.U64(), reader.U32(), reader.U32(), reader.U32(), reader.U32(),
        CString(reader.Take(16)));

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

    /// <summary>A NUL-terminated string in a fixed buffer (the whole buffer when no NUL).</summary>
    public static string CString(ReadOnlySpan<byte> bytes)
    {
        int end = bytes.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? bytes : bytes[..end]);
    }
}
