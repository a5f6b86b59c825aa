using System.Runtime.InteropServices;
using Kscope.Native;

namespace Kscope.Diagnostics.Trace.Gadgets.Runqlat;

/// <summary>struct runq_event (bpf/gadgets/runqlat.bpf.c), 80 bytes: a wait of at least slow_ns.</summary>
[KernelStruct("runq_event")]
[StructLayout(LayoutKind.Sequential)]
public unsafe struct RunqEvent
{
    public EventHeaderMirror H;
    public ulong WaitNs;
    public uint PrevTid;
    public uint Cpu;
    public fixed byte PrevComm[16];
}
