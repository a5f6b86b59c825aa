using System.Runtime.InteropServices;
using Kscope.Native;

namespace Kscope.Diagnostics.Trace.Gadgets.Syscalls;

/// <summary>struct syscall_stats (bpf/gadgets/syscalls.bpf.c), the value of map `stats` (key: syscall number u32), 352 bytes.</summary>
[KernelStruct("syscall_stats")]
[StructLayout(LayoutKind.Sequential)]
public unsafe struct SyscallStatsValue
{
    public ulong Count;
    public ulong Errors;
    public ulong TotalNs;
    public ulong MaxNs;
    public fixed ulong Slots[40];
}
