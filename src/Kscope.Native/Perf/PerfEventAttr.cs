using System.Runtime.InteropServices;

namespace Kscope.Native.Perf;

// struct perf_event_attr, include/uapi/linux/perf_event.h (PERF_ATTR_SIZE_VER8, 136 bytes).
// The 64 one-bit flags (disabled, inherit, … sigtrap) are one word: see PerfEventAttrFlags.
[StructLayout(LayoutKind.Explicit, Size = 136)]
[KernelStruct("perf_event_attr")]
public struct PerfEventAttr
{
    /// <summary>PERF_TYPE_HARDWARE (0), SOFTWARE (1), TRACEPOINT (2), … or a dynamic PMU type (kprobe, uprobe).</summary>
    [FieldOffset(0)] public uint Type;

    /// <summary>Set by <see cref="PerfEvents.Open"/> when left 0.</summary>
    [FieldOffset(4)] public uint Size;

    [FieldOffset(8)] public ulong Config;
    [FieldOffset(16)] public ulong SamplePeriod;
    [FieldOffset(16)] public ulong SampleFreq;
    [FieldOffset(24)] public ulong SampleType;
    [FieldOffset(32)] public ulong ReadFormat;

    /// <summary>The bitfield word at offset 40 (disabled:1, inherit:1, …); kernel bitfields have no byte offset to check.</summary>
    [FieldOffset(40), KernelPadding] public PerfEventAttrFlags Flags;
    [FieldOffset(48)] public uint WakeupEvents;
    [FieldOffset(48)] public uint WakeupWatermark;
    [FieldOffset(52)] public uint BpType;
    [FieldOffset(56)] public ulong BpAddr;
    [FieldOffset(56)] public ulong KprobeFunc;
    [FieldOffset(56)] public ulong UprobePath;
    [FieldOffset(56)] public ulong Config1;
    [FieldOffset(64)] public ulong BpLen;
    [FieldOffset(64)] public ulong KprobeAddr;
    [FieldOffset(64)] public ulong ProbeOffset;
    [FieldOffset(64)] public ulong Config2;
    [FieldOffset(72)] public ulong BranchSampleType;
    [FieldOffset(80)] public ulong SampleRegsUser;
    [FieldOffset(88)] public uint SampleStackUser;
    [FieldOffset(92)] public int Clockid;
    [FieldOffset(96)] public ulong SampleRegsIntr;
    [FieldOffset(104)] public uint AuxWatermark;
    [FieldOffset(108)] public ushort SampleMaxStack;
    [FieldOffset(112)] public uint AuxSampleSize;
    [FieldOffset(116)] public uint AuxAction;
    [FieldOffset(120)] public ulong SigData;
    [FieldOffset(128)] public ulong Config3;
}
