using System.Runtime.InteropServices;

namespace Kscope.Native.Bpf;

// union bpf_attr, BPF_LINK_CREATE member ("link_create"), include/uapi/linux/bpf.h.
// Only the target-specific members kscope uses are mirrored: perf_event.bpf_cookie, tracing.*,
// kprobe_multi.* (all overlaying the same union at offset 16).
[StructLayout(LayoutKind.Explicit)]
[KernelStruct("bpf_attr", Prefix = true)]
public struct LinkCreateAttr
{
    [FieldOffset(0), KernelField("link_create.prog_fd")] public uint ProgFd;
    [FieldOffset(4), KernelField("link_create.target_fd")] public uint TargetFd;
    [FieldOffset(8), KernelField("link_create.attach_type")] public uint AttachType;
    [FieldOffset(12), KernelField("link_create.flags")] public uint Flags;
    [FieldOffset(16), KernelField("link_create.target_btf_id")] public uint TargetBtfId;
    [FieldOffset(16), KernelField("link_create.perf_event.bpf_cookie")] public ulong PerfEventBpfCookie;
    [FieldOffset(16), KernelField("link_create.kprobe_multi.flags")] public uint KprobeMultiFlags;
    [FieldOffset(20), KernelField("link_create.kprobe_multi.cnt")] public uint KprobeMultiCnt;
    [FieldOffset(24), KernelField("link_create.kprobe_multi.syms")] public ulong KprobeMultiSyms;
    [FieldOffset(32), KernelField("link_create.kprobe_multi.addrs")] public ulong KprobeMultiAddrs;
    [FieldOffset(40), KernelField("link_create.kprobe_multi.cookies")] public ulong KprobeMultiCookies;
}
