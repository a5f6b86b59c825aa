using System.Runtime.InteropServices;

namespace Kscope.Native.Bpf;

// struct bpf_btf_info, include/uapi/linux/bpf.h.
[StructLayout(LayoutKind.Sequential)]
[KernelStruct("bpf_btf_info")]
public struct BpfBtfInfo
{
    public ulong Btf;
    public uint BtfSize;
    public uint Id;
    public ulong Name;
    public uint NameLen;
    public uint KernelBtf;
}
