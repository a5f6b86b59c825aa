namespace Kscope.Diagnostics.Trace.Gadgets.OffCpu;

/// <summary>
/// One entry of map `totals` in bpf/gadgets/offcpu.bpf.c (<see cref="OffCpuKey"/>, <see cref="OffCpuValue"/>):
/// blocked time of a thread by kernel and user stack (ids in map `stacks`, negative: none); the waker is
/// the one of the longest block. Stacks are symbolized frames, innermost first.
/// </summary>
public sealed record OffCpuEntry(uint Pid, uint Tid, string Comm, int KernelStackId, int UserStackId, uint WakerPid, uint WakerTid,
    string WakerComm, ulong TotalNs, ulong Count, ulong MaxNs) : ITraceRecord
{
    public const int KeySize = 32;
    public const int ValueSize = 48;

    public IReadOnlyList<string> KernelStack { get; init; } = [];

    public IReadOnlyList<string> UserStack { get; init; } = [];

    public ulong TimestampNs => 0;

    public static unsafe OffCpuEntry Parse(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        OffCpuKey k = Mirror.Read<OffCpuKey>(key, "offcpu key");
        OffCpuValue v = Mirror.Read<OffCpuValue>(value, "offcpu value");
        return new OffCpuEntry(k.Tgid, k.Tid, Mirror.CString(k.Comm, 16), k.Kstack, k.Ustack, v.WakerTgid, v.WakerTid,
            Mirror.CString(v.WakerComm, 16), v.TotalNs, v.Count, v.MaxNs);
    }

    public IReadOnlyList<TraceField> Fields() =>
    [
        new("pid", (long)Pid), new("tid", (long)Tid), new("comm", Comm), new("total_ns", TotalNs), new("count", Count), new("max_ns", MaxNs),
        new("waker_pid", WakerPid == 0 ? null : (long)WakerPid), new("waker_comm", WakerPid == 0 ? null : WakerComm),
        new("kernel_stack", KernelStack.ToArray()), new("user_stack", UserStack.ToArray()),
    ];
}
