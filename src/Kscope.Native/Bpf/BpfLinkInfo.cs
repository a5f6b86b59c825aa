using System.Runtime.InteropServices;

namespace Kscope.Native.Bpf;

// struct bpf_link_info, include/uapi/linux/bpf.h: the common header; the 48-byte per-type union
// that follows is kept as raw bytes.
[StructLayout(LayoutKind.Explicit, Size = 64)]
[KernelStruct("bpf_link_info", Prefix = true)]
public unsafe struct BpfLinkInfo
{
    [FieldOffset(0)] public uint Type;
    [FieldOffset(4)] public uint Id;
    [FieldOffset(8)] public uint ProgId;

    [FieldOffset(16), KernelPadding] public fixed byte Details[48];
}
