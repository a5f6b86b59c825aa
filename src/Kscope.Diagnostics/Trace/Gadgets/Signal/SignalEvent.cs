using System.Runtime.InteropServices;
using Kscope.Native;

namespace Kscope.Diagnostics.Trace.Gadgets.Signal;

/// <summary>struct signal_event (bpf/gadgets/signal.bpf.c), 112 bytes: the header is the sender (generate) or the receiver (deliver).</summary>
[KernelStruct("signal_event")]
[StructLayout(LayoutKind.Sequential)]
public unsafe struct SignalEvent
{
    public EventHeaderMirror H;
    public uint Kind;
    public int Sig;
    [KernelField("errno_")]
    public int Errno;
    public int Code;
    public int Result;
    public uint TargetPid;
    public uint Group;
    public uint Fatal;
    public ulong SaHandler;
    public ulong SaFlags;
    public fixed byte TargetComm[16];
}
