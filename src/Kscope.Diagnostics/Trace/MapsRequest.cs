using System.Runtime.InteropServices;
using Kscope.Native;

namespace Kscope.Diagnostics.Trace;

/// <summary>
/// struct maps_request (bpf/gadgets/maps_requests.h), 16 bytes: the one record of ring buffer `events` in the
/// stack gadgets (offcpu, futex), asking for a snapshot of a process's mappings while it blocks in a new
/// address space (<see cref="ProcessMapsStore"/>).
/// </summary>
[KernelStruct("maps_request")]
[StructLayout(LayoutKind.Sequential)]
public struct MapsRequest
{
    public uint Tgid;
    public uint Pad;
    public ulong Mm;

    /// <summary>The process a record of a stack gadget's ring buffer asks to snapshot.</summary>
    public static uint PidOf(ReadOnlySpan<byte> record) => Mirror.Read<MapsRequest>(record, "maps request").Tgid;
}
