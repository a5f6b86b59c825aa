using System.Runtime.InteropServices;

namespace Kscope.Native.Bpf;

// struct bpf_func_info, include/uapi/linux/bpf.h: one BTF FUNC per subprogram start.
[StructLayout(LayoutKind.Sequential)]
[KernelStruct("bpf_func_info")]
public struct BpfFuncInfo
{
    public uint InsnOff;
    public uint TypeId;
}
