using System.Runtime.InteropServices;
using Kscope.Native;

namespace Kscope.Diagnostics.Trace.Gadgets.Open;

/// <summary>struct open_event (bpf/gadgets/open.bpf.c), 336 bytes.</summary>
[KernelStruct("open_event")]
[StructLayout(LayoutKind.Sequential)]
public unsafe struct OpenEvent
{
    public EventHeaderMirror H;
    public ulong LatencyNs;
    public long Ret;
    public ulong Flags;
    public uint Mode;
    public int Dfd;
    public fixed byte Path[256];
}
