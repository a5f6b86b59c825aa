using Kscope.Native;
using Kscope.Native.Perf;

namespace Kscope.Kernel.Perf;

/// <summary>
/// One open perf event (perf_event_open fd), optionally with its mmap'd ring. Disposing closes both.
/// The profiler opens one per CPU (pid -1, cpu N) for sampling; BPF attach opens tracepoint, kprobe,
/// uprobe events and hands the fd to the program.
/// </summary>
public sealed class PerfEvent : IDisposable
{
    private PerfEvent(SafeFd fd, int cpu)
    {
        Fd = fd;
        Cpu = cpu;
    }

    public SafeFd Fd { get; }

    /// <summary>The CPU it was opened on (-1 = any).</summary>
    public int Cpu { get; }

    /// <summary>The ring, after <see cref="MapRing"/>.</summary>
    public PerfRing? Ring { get; private set; }

    public static PerfEvent Open(PerfEventAttr attr, int pid, int cpu, int groupFd = -1, int flags = 0, string? operation = null) =>
        new(PerfEvents.Open(ref attr, pid, cpu, groupFd, flags, operation), cpu);

    /// <summary>CPU-clock sampling at <paramref name="frequencyHz"/> on one CPU for every task (pid -1) or a pid.</summary>
    public static PerfEvent OpenCpuClock(int frequencyHz, int cpu, int pid = -1, ulong sampleType = 0, bool disabled = true)
    {
        var attr = new PerfEventAttr
        {
            Type = PerfEvents.TypeSoftware,
            Config = PerfEvents.SoftwareCpuClock,
            SampleFreq = (ulong)frequencyHz,
            SampleType = sampleType,
            Flags = PerfEventAttrFlags.Freq | (disabled ? PerfEventAttrFlags.Disabled : 0),
            WakeupEvents = 1,
        };
        return Open(attr, pid, cpu, operation: $"perf_event_open cpu-clock cpu {cpu}");
    }

    /// <summary>mmaps the ring (see <see cref="PerfRing.Map"/>).</summary>
    public PerfRing MapRing(int dataPages = 8) => Ring ??= PerfRing.Map(Fd, dataPages);

    public void Enable() => PerfEvents.Enable(Fd);

    public void Disable() => PerfEvents.Disable(Fd);

    public void Dispose()
    {
        Ring?.Dispose();
        Fd.Dispose();
    }
}
