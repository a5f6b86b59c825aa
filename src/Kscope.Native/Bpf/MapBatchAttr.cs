using System.Runtime.InteropServices;

namespace Kscope.Native.Bpf;

// union bpf_attr, BPF_MAP_*_BATCH member ("batch"), include/uapi/linux/bpf.h.
// InBatch/OutBatch point to an opaque cursor of the map's key size; Count is in/out.
[StructLayout(LayoutKind.Sequential)]
[KernelStruct("bpf_attr", Prefix = true)]
public struct MapBatchAttr
{
    [KernelField("batch.in_batch")]
    public ulong InBatch;

    [KernelField("batch.out_batch")]
    public ulong OutBatch;

    [KernelField("batch.keys")]
    public ulong Keys;

    [KernelField("batch.values")]
    public ulong Values;

    [KernelField("batch.count")]
    public uint Count;

    [KernelField("batch.map_fd")]
    public uint MapFd;

    [KernelField("batch.elem_flags")]
    public ulong ElemFlags;

    [KernelField("batch.flags")]
    public ulong Flags;
}
