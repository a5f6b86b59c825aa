using System.Runtime.InteropServices;
using Kscope.Native;

namespace Kscope.Diagnostics.Trace.Gadgets.Tcp;

/// <summary>struct tcp_event (bpf/gadgets/tcp.bpf.c), 120 bytes: the header is the owning process.</summary>
[KernelStruct("tcp_event")]
[StructLayout(LayoutKind.Sequential)]
public unsafe struct TcpEvent
{
    public EventHeaderMirror H;
    public ulong Skaddr;
    public ulong LatencyNs;
    public uint Kind;
    public int Oldstate;
    public int Newstate;
    public int Result;
    public ushort Family;
    public ushort Sport;
    public ushort Dport;
    [KernelPadding]
    public ushort Pad;
    public fixed byte Saddr[16];
    public fixed byte Daddr[16];
}
