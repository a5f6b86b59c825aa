using System.Runtime.InteropServices;

namespace Kscope.Native.Bpf;

// union bpf_attr, BPF_MAP_*_ELEM / BPF_MAP_GET_NEXT_KEY / BPF_MAP_FREEZE member (anonymous struct),
// include/uapi/linux/bpf.h. Key, Value and NextKey are user-space pointers.
[StructLayout(LayoutKind.Explicit)]
[KernelStruct("bpf_attr", Prefix = true)]
public struct MapElemAttr
{
    [FieldOffset(0)]
    public uint MapFd;

    [FieldOffset(8)]
    public ulong Key;

    [FieldOffset(16)]
    public ulong Value;

    [FieldOffset(16)]
    public ulong NextKey;

    /// <summary>BPF_ANY (0), BPF_NOEXIST (1), BPF_EXIST (2), BPF_F_LOCK (4).</summary>
    [FieldOffset(24)]
    public ulong Flags;
}
