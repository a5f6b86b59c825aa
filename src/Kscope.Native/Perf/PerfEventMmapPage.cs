using System.Runtime.InteropServices;

namespace Kscope.Native.Perf;

// struct perf_event_mmap_page, include/uapi/linux/perf_event.h: the first page of a perf ring.
// Only the fields a ring reader needs; data_head is written by the kernel (read it with acquire
// semantics), data_tail by the reader (write it with release semantics).
[StructLayout(LayoutKind.Explicit, Size = 1088)]
[KernelStruct("perf_event_mmap_page", Prefix = true)]
public struct PerfEventMmapPage
{
    [FieldOffset(0)] public uint Version;
    [FieldOffset(4)] public uint CompatVersion;
    [FieldOffset(72)] public uint Size;
    [FieldOffset(1024)] public ulong DataHead;
    [FieldOffset(1032)] public ulong DataTail;
    [FieldOffset(1040)] public ulong DataOffset;
    [FieldOffset(1048)] public ulong DataSize;
    [FieldOffset(1056)] public ulong AuxHead;
    [FieldOffset(1064)] public ulong AuxTail;
    [FieldOffset(1072)] public ulong AuxOffset;
    [FieldOffset(1080)] public ulong AuxSize;
}
