using System.Runtime.InteropServices;

namespace Kscope.Native.Bpf;

// union bpf_attr, BPF_BTF_LOAD member (anonymous struct), include/uapi/linux/bpf.h.
[StructLayout(LayoutKind.Sequential)]
[KernelStruct("bpf_attr", Prefix = true)]
public struct BtfLoadAttr
{
    public ulong Btf;
    public ulong BtfLogBuf;
    public uint BtfSize;
    public uint BtfLogSize;
    public uint BtfLogLevel;

    /// <summary>Written by the kernel (5.17+).</summary>
    public uint BtfLogTrueSize;
}
