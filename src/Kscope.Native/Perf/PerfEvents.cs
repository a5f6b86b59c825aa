namespace Kscope.Native.Perf;

/// <summary>perf_event_open(2) and the perf ioctls (include/uapi/linux/perf_event.h).</summary>
public static unsafe class PerfEvents
{
    public const uint TypeHardware = 0;
    public const uint TypeSoftware = 1;
    public const uint TypeTracepoint = 2;

    /// <summary>PERF_COUNT_SW_CPU_CLOCK.</summary>
    public const ulong SoftwareCpuClock = 0;

    /// <summary>PERF_COUNT_SW_DUMMY: counts nothing, samples nothing; a carrier for side-band records or a ring.</summary>
    public const ulong SoftwareDummy = 9;

    /// <summary>PERF_COUNT_SW_BPF_OUTPUT, the event type behind BPF_MAP_TYPE_PERF_EVENT_ARRAY.</summary>
    public const ulong SoftwareBpfOutput = 10;

    /// <summary>PERF_SAMPLE_RAW: the sample carries the bytes bpf_perf_event_output() wrote.</summary>
    public const ulong SampleRaw = 1UL << 10;

    public const int FlagFdCloexec = 1 << 3;

    // ioctl request numbers: _IO/_IOW('$', n, …) with the asm-generic encoding (x86_64 and arm64 agree).
    private const nuint IocEnable = 0x2400;
    private const nuint IocDisable = 0x2401;
    private const nuint IocReset = 0x2403;
    private const nuint IocSetOutput = 0x2405;
    private const nuint IocId = 0x80082407;
    private const nuint IocSetBpf = 0x40042408;

    /// <summary>
    /// perf_event_open(attr, pid, cpu, groupFd, flags | PERF_FLAG_FD_CLOEXEC). pid -1 with a cpu means
    /// every task on that cpu; pid 0 means the caller. Sets <c>attr.Size</c> when it is 0.
    /// </summary>
    public static SafeFd Open(ref PerfEventAttr attr, int pid, int cpu, int groupFd = -1, int flags = 0, string? operation = null)
    {
        if (attr.Size == 0)
        {
            attr.Size = (uint)sizeof(PerfEventAttr);
        }
        fixed (PerfEventAttr* p = &attr)
        {
            int fd = (int)Interop.Libc.Syscall(SyscallNumbers.PerfEventOpen, (nint)p, pid, cpu, groupFd, flags | FlagFdCloexec, 0);
            if (fd >= 0)
            {
                return new SafeFd(fd);
            }
            Errno errno = KernelException.LastErrno();
            throw KernelException.FromErrno(operation ?? "perf_event_open", errno, Hint(errno));
        }
    }

    public static void Enable(SafeFd perfFd) => Posix.Ioctl(perfFd, IocEnable, 0, "ioctl PERF_EVENT_IOC_ENABLE");

    public static void Disable(SafeFd perfFd) => Posix.Ioctl(perfFd, IocDisable, 0, "ioctl PERF_EVENT_IOC_DISABLE");

    public static void Reset(SafeFd perfFd) => Posix.Ioctl(perfFd, IocReset, 0, "ioctl PERF_EVENT_IOC_RESET");

    /// <summary>
    /// PERF_EVENT_IOC_SET_OUTPUT: <paramref name="perfFd"/> (not mmap'd itself) writes its records into the ring of
    /// <paramref name="targetFd"/>. The kernel requires the same CPU (or, for cpu -1 rings, the same task), the same
    /// clock and the same write direction.
    /// </summary>
    public static void SetOutput(SafeFd perfFd, SafeFd targetFd) =>
        Posix.Ioctl(perfFd, IocSetOutput, targetFd.Value, "ioctl PERF_EVENT_IOC_SET_OUTPUT");

    /// <summary>PERF_EVENT_IOC_ID: the event's id, as PERF_SAMPLE_ID and the sample_id trailer carry it.</summary>
    public static ulong Id(SafeFd perfFd)
    {
        ulong id = 0;
        Posix.Ioctl(perfFd, IocId, (nint)(&id), "ioctl PERF_EVENT_IOC_ID");
        return id;
    }

    /// <summary>PERF_EVENT_IOC_SET_BPF: runs a BPF program on every event (the pre-BPF-link attach path).</summary>
    public static void SetBpf(SafeFd perfFd, SafeFd programFd) =>
        Posix.Ioctl(perfFd, IocSetBpf, programFd.Value, "ioctl PERF_EVENT_IOC_SET_BPF");

    private static string? Hint(Errno errno) => errno switch
    {
        Errno.EACCES or Errno.EPERM => "needs CAP_PERFMON or root, or a lower kernel.perf_event_paranoid",
        Errno.ENOENT or Errno.EOPNOTSUPP => "this kernel or PMU does not offer that event",
        _ => null,
    };
}
