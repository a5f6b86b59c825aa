using System.Runtime.InteropServices;
using Kscope.Native;

namespace Kscope.Kernel.Host.Probes;

// TODO: use Kscope.Kernel.Bpf (issue 4) once its Bpf.MapCreate/ProgLoad land; these are the probe's own minimal mirrors.

// union bpf_attr, include/uapi/linux/bpf.h: the BPF_MAP_CREATE member (leading fields only).
[StructLayout(LayoutKind.Sequential)]
[KernelStruct("bpf_attr", Prefix = true)]
internal struct BpfAttrMapCreateProbe
{
    public uint MapType;
    public uint KeySize;
    public uint ValueSize;
    public uint MaxEntries;
    public uint MapFlags;
}

// union bpf_attr, include/uapi/linux/bpf.h: the BPF_PROG_LOAD member (leading fields only).
[StructLayout(LayoutKind.Sequential)]
[KernelStruct("bpf_attr", Prefix = true)]
internal struct BpfAttrProgLoadProbe
{
    public uint ProgType;
    public uint InsnCnt;
    public ulong Insns;
    public ulong License;
    public uint LogLevel;
    public uint LogSize;
    public ulong LogBuf;
    public uint KernVersion;
    public uint ProgFlags;
}

// struct perf_event_attr, include/uapi/linux/perf_event.h: PERF_ATTR_SIZE_VER0 (64 bytes), enough for a software counter.
[StructLayout(LayoutKind.Sequential)]
[KernelStruct("perf_event_attr", Prefix = true)]
internal struct PerfEventAttrProbe
{
    public const uint SizeVer0 = 64;

    public uint Type;
    public uint Size;
    public ulong Config;
    public ulong SamplePeriod;
    public ulong SampleType;
    public ulong ReadFormat;

    /// <summary>The bitfield word (bit 0 = disabled, bit 5 = exclude_kernel, bit 6 = exclude_hv).</summary>
    [KernelPadding]
    public ulong Flags;

    public uint WakeupEvents;
    public uint BpType;
    public ulong BpAddr;
}

// struct io_uring_params, include/uapi/linux/io_uring.h (120 bytes; the two ring offset structs kept opaque).
[StructLayout(LayoutKind.Sequential)]
[KernelStruct("io_uring_params")]
internal unsafe struct IoUringParamsProbe
{
    public uint SqEntries;
    public uint CqEntries;
    public uint Flags;
    public uint SqThreadCpu;
    public uint SqThreadIdle;
    public uint Features;
    public uint WqFd;
    public fixed uint Resv[3];
    [KernelField("sq_off")]
    public fixed byte SqOff[40];
    [KernelField("cq_off")]
    public fixed byte CqOff[40];
}
