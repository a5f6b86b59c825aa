using System.Runtime.InteropServices;

namespace Kscope.Native.Bpf;

// union bpf_attr, BPF_ENABLE_STATS member ("enable_stats"), include/uapi/linux/bpf.h.
// Type: BPF_STATS_RUN_TIME (0).
[StructLayout(LayoutKind.Sequential)]
[KernelStruct("bpf_attr", Prefix = true)]
public struct EnableStatsAttr
{
    [KernelField("enable_stats.type")] public uint Type;
}
