using System.Runtime.InteropServices;
using Kscope.Native;

namespace Kscope.Diagnostics.Trace.Gadgets.OffCpu;

/// <summary>struct offcpu_key (bpf/gadgets/offcpu.bpf.c), the key of map `totals`, 32 bytes: what offcputime keys by.</summary>
[KernelStruct("offcpu_key")]
[StructLayout(LayoutKind.Sequential)]
public unsafe struct OffCpuKey
{
    public uint Tgid;
    public uint Tid;
    public int Kstack;
    public int Ustack;
    public fixed byte Comm[16];
}
