using System.Runtime.InteropServices;

namespace Kscope.Native.Bpf;

// union bpf_attr, BPF_OBJ_GET_INFO_BY_FD member ("info"), include/uapi/linux/bpf.h.
// Info points to a bpf_prog_info / bpf_map_info / bpf_link_info / bpf_btf_info; InfoLen is in/out.
[StructLayout(LayoutKind.Sequential)]
[KernelStruct("bpf_attr", Prefix = true)]
public struct ObjGetInfoByFdAttr
{
    [KernelField("info.bpf_fd")] public uint BpfFd;
    [KernelField("info.info_len")] public uint InfoLen;
    [KernelField("info.info")] public ulong Info;
}
