namespace Kscope.Kernel.Perf;

/// <summary>enum perf_event_type, include/uapi/linux/perf_event.h (the records kscope reads).</summary>
public enum PerfRecordType : uint
{
    Mmap = 1,
    Lost = 2,
    Comm = 3,
    Exit = 4,
    Throttle = 5,
    Unthrottle = 6,
    Fork = 7,
    Read = 8,
    Sample = 9,
    Mmap2 = 10,
    LostSamples = 13,
    Switch = 14,
    SwitchCpuWide = 15,
}
