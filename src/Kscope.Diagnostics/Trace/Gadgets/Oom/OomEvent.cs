using System.Runtime.InteropServices;
using Kscope.Native;

namespace Kscope.Diagnostics.Trace.Gadgets.Oom;

/// <summary>struct oom_event (bpf/gadgets/oom.bpf.c), 120 bytes: the header is the task whose allocation triggered the kill.</summary>
[KernelStruct("oom_event")]
[StructLayout(LayoutKind.Sequential)]
public unsafe struct OomEvent
{
    public EventHeaderMirror H;
    public uint VictimPid;
    public uint VictimUid;
    public ulong TotalVmKb;
    public ulong AnonRssKb;
    public ulong FileRssKb;
    public ulong ShmemRssKb;
    public ulong PgtablesKb;
    public int OomScoreAdj;
    public uint HasFigures;
    public fixed byte VictimComm[16];
}
