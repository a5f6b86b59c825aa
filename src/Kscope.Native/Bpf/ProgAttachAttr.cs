using System.Runtime.InteropServices;

namespace Kscope.Native.Bpf;

// union bpf_attr, BPF_PROG_ATTACH / BPF_PROG_DETACH member (anonymous struct), include/uapi/linux/bpf.h.
[StructLayout(LayoutKind.Sequential)]
[KernelStruct("bpf_attr", Prefix = true)]
public struct ProgAttachAttr
{
    public uint TargetFd;
    public uint AttachBpfFd;
    public uint AttachType;
    public uint AttachFlags;
    public uint ReplaceBpfFd;
}
