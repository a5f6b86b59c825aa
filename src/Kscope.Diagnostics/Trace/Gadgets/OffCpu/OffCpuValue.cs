using System.Runtime.InteropServices;
using Kscope.Native;

namespace Kscope.Diagnostics.Trace.Gadgets.OffCpu;

/// <summary>struct offcpu_value (bpf/gadgets/offcpu.bpf.c), the value of map `totals`, 48 bytes; the waker is the longest block's.</summary>
[KernelStruct("offcpu_value")]
[StructLayout(LayoutKind.Sequential)]
public unsafe struct OffCpuValue
{
    public ulong TotalNs;
    public ulong Count;
    public ulong MaxNs;
    public uint WakerTgid;
    public uint WakerTid;
    public fixed byte WakerComm[16];
}
