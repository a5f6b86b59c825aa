using System.Runtime.InteropServices;

namespace Kscope.Native.Bpf;

// union bpf_attr, BPF_OBJ_PIN / BPF_OBJ_GET member (anonymous struct), include/uapi/linux/bpf.h.
// Pathname is a pointer to a NUL-terminated path on bpffs.
[StructLayout(LayoutKind.Sequential)]
[KernelStruct("bpf_attr", Prefix = true)]
public struct ObjPinAttr
{
    public ulong Pathname;
    public uint BpfFd;

    /// <summary>BPF_F_RDONLY (1 &lt;&lt; 3), BPF_F_WRONLY (1 &lt;&lt; 4) for BPF_OBJ_GET.</summary>
    public uint FileFlags;
}
