using System.Runtime.InteropServices;

namespace Kscope.Native.Bpf;

// union bpf_attr, BPF_*_GET_NEXT_ID / BPF_*_GET_FD_BY_ID member (anonymous struct), include/uapi/linux/bpf.h.
// StartId doubles as prog_id, map_id, btf_id and link_id (a union at offset 0).
[StructLayout(LayoutKind.Sequential)]
[KernelStruct("bpf_attr", Prefix = true)]
public struct GetIdAttr
{
    public uint StartId;
    public uint NextId;
    public uint OpenFlags;
}
