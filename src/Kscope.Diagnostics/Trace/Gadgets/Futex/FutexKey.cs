using System.Runtime.InteropServices;
using Kscope.Native;

namespace Kscope.Diagnostics.Trace.Gadgets.Futex;

/// <summary>struct futex_key (bpf/gadgets/futex.bpf.c), the key of map `totals`, 16 bytes.</summary>
[KernelStruct("futex_key")]
[StructLayout(LayoutKind.Sequential)]
public struct FutexKey
{
    public uint Tgid;
    public int Ustack;
    public ulong Uaddr;
}
