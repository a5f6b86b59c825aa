using System.Runtime.InteropServices;

namespace Kscope.Native;

// struct __kernel_timespec, include/uapi/linux/time_types.h: 64-bit seconds on every architecture (y2038-safe syscalls).
[StructLayout(LayoutKind.Sequential)]
[KernelStruct("__kernel_timespec")]
public struct KernelTimespec
{
    [KernelField("tv_sec")] public long Seconds;
    [KernelField("tv_nsec")] public long Nanoseconds;

    public static KernelTimespec From(TimeSpan span) => new() { Seconds = span.Ticks / TimeSpan.TicksPerSecond, Nanoseconds = span.Ticks % TimeSpan.TicksPerSecond * 100 };
}
