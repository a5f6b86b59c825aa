using Kscope.Formats;

namespace Kscope.Diagnostics.Trace.Records;

/// <summary>
/// One entry of map `totals` in bpf/gadgets/offcpu.bpf.c. Key (56 bytes): tgid, tid u32, kstack, ustack
/// s32 (stack ids, negative: none), waker_tgid, waker_tid u32, comm[16], waker_comm[16]. Value (24):
/// total_ns, count, max_ns u64. Stacks are symbolized frames, innermost first.
/// </summary>
public sealed record OffCpuEntry(uint Pid, uint Tid, string Comm, int KernelStackId, int UserStackId, uint WakerPid, uint WakerTid,
    string WakerComm, ulong TotalNs, ulong Count, ulong MaxNs) : ITraceRecord
{
    public const int KeySize = 56;
    public const int ValueSize = 24;

    public IReadOnlyList<string> KernelStack { get; init; } = [];

    public IReadOnlyList<string> UserStack { get; init; } = [];

    public ulong TimestampNs => 0;

    public static OffCpuEntry Parse(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        var k = new SpanReader(key, "offcpu key");
        var v = new SpanReader(value, "offcpu value");
        uint tgid = k.U32(), tid = k.U32();
        int kstack = k.I32(), ustack = k.I32();
        uint wakerTgid = k.U32(), wakerTid = k.U32();
        string comm = EventHeader.CString(k.Take(16)), wakerComm = EventHeader.CString(k.Take(16));
        return new OffCpuEntry(tgid, tid, comm, kstack, ustack, wakerTgid, wakerTid, wakerComm, v.U64(), v.U64(), v.U64());
    }

    public IReadOnlyList<TraceField> Fields() =>
    [
        new("pid", (long)Pid), new("tid", (long)Tid), new("comm", Comm), new("total_ns", TotalNs), new("count", Count), new("max_ns", MaxNs),
        new("waker_pid", WakerPid == 0 ? null : (long)WakerPid), new("waker_comm", WakerPid == 0 ? null : WakerComm),
        new("kernel_stack", KernelStack.ToArray()), new("user_stack", UserStack.ToArray()),
    ];
}
