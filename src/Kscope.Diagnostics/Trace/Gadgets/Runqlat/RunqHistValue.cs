using System.Runtime.InteropServices;
using Kscope.Native;

namespace Kscope.Diagnostics.Trace.Gadgets.Runqlat;

/// <summary>struct runq_hist (bpf/gadgets/runqlat.bpf.c), the value of map `hists` (key: tgid u32), 360 bytes.</summary>
[KernelStruct("runq_hist")]
[StructLayout(LayoutKind.Sequential)]
public unsafe struct RunqHistValue
{
    public ulong Count;
    public ulong TotalNs;
    public ulong MaxNs;
    public fixed ulong Slots[40];
    public fixed byte Comm[16];
}
