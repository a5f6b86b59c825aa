using System.Runtime.InteropServices;

namespace Kscope.Native.Bpf;

// union bpf_attr, BPF_LINK_DETACH member ("link_detach"), include/uapi/linux/bpf.h.
[StructLayout(LayoutKind.Sequential)]
[KernelStruct("bpf_attr", Prefix = true)]
public struct LinkDetachAttr
{
    [KernelField("link_detach.link_fd")] public uint LinkFd;
}
