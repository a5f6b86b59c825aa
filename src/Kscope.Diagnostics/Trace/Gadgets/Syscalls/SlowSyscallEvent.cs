using System.Runtime.InteropServices;
using Kscope.Native;

namespace Kscope.Diagnostics.Trace.Gadgets.Syscalls;

/// <summary>struct slow_syscall_event (bpf/gadgets/syscalls.bpf.c), 120 bytes.</summary>
[KernelStruct("slow_syscall_event")]
[StructLayout(LayoutKind.Sequential)]
public unsafe struct SlowSyscallEvent
{
    public EventHeaderMirror H;
    public long Id;
    public long Ret;
    public ulong LatencyNs;
    public fixed ulong Args[6];
}
