using System.Runtime.InteropServices;
using Kscope.Native;

namespace Kscope.Diagnostics.Trace.Gadgets.Futex;

/// <summary>struct futex_value (bpf/gadgets/futex.bpf.c), the value of map `totals`, 56 bytes.</summary>
[KernelStruct("futex_value")]
[StructLayout(LayoutKind.Sequential)]
public unsafe struct FutexValue
{
    public ulong Count;
    public ulong TotalNs;
    public ulong MaxNs;
    public ulong MaxWaiters;
    public ulong Timeouts;
    public fixed byte Comm[16];
}
