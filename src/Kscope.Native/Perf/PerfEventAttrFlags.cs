namespace Kscope.Native.Perf;

/// <summary>The one-bit members of struct perf_event_attr at offset 40, in declaration order (include/uapi/linux/perf_event.h).</summary>
[Flags]
public enum PerfEventAttrFlags : ulong
{
    None = 0,
    Disabled = 1UL << 0,
    Inherit = 1UL << 1,
    Pinned = 1UL << 2,
    Exclusive = 1UL << 3,
    ExcludeUser = 1UL << 4,
    ExcludeKernel = 1UL << 5,
    ExcludeHv = 1UL << 6,
    ExcludeIdle = 1UL << 7,
    Mmap = 1UL << 8,
    Comm = 1UL << 9,
    /// <summary>SampleFreq holds a frequency (Hz) rather than a period.</summary>
    Freq = 1UL << 10,
    InheritStat = 1UL << 11,
    EnableOnExec = 1UL << 12,
    Task = 1UL << 13,
    /// <summary>WakeupWatermark holds bytes rather than WakeupEvents events.</summary>
    Watermark = 1UL << 14,
    PreciseIp1 = 1UL << 15,
    PreciseIp2 = 1UL << 16,
    MmapData = 1UL << 17,
    SampleIdAll = 1UL << 18,
    ExcludeHost = 1UL << 19,
    ExcludeGuest = 1UL << 20,
    ExcludeCallchainKernel = 1UL << 21,
    ExcludeCallchainUser = 1UL << 22,
    Mmap2 = 1UL << 23,
    CommExec = 1UL << 24,
    UseClockid = 1UL << 25,
    ContextSwitch = 1UL << 26,
    WriteBackward = 1UL << 27,
    Namespaces = 1UL << 28,
    Ksymbol = 1UL << 29,
    BpfEvent = 1UL << 30,
    AuxOutput = 1UL << 31,
    Cgroup = 1UL << 32,
    TextPoke = 1UL << 33,
    BuildId = 1UL << 34,
    InheritThread = 1UL << 35,
    RemoveOnExec = 1UL << 36,
    Sigtrap = 1UL << 37,
}
