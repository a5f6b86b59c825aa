using System.Runtime.InteropServices;

namespace Kscope.Native.Bpf;

// union bpf_attr, BPF_RAW_TRACEPOINT_OPEN member ("raw_tracepoint"), include/uapi/linux/bpf.h.
// Name points to a NUL-terminated tracepoint name ("sched_switch").
[StructLayout(LayoutKind.Sequential)]
[KernelStruct("bpf_attr", Prefix = true)]
public struct RawTracepointOpenAttr
{
    [KernelField("raw_tracepoint.name")] public ulong Name;
    [KernelField("raw_tracepoint.prog_fd")] public uint ProgFd;
}
