using System.Collections.Frozen;
using Kscope.Native;

namespace Kscope.Kernel.Host.Probes;

/// <summary>
/// Kernel features probed by trying the syscall (never guessed from the version). Each probe runs once
/// per process and is cached; three-valued: present, absent (ENOSYS and friends), unknown (EPERM: the
/// kernel has it but refused us). Every kernel object a probe creates is closed before it returns.
/// </summary>
public static class KernelProbes
{
    public const string Bpf = "bpf";
    public const string PerfEventOpen = "perf_event_open";
    public const string IoUringSetup = "io_uring_setup";
    public const string EpollPwait2 = "epoll_pwait2";
    public const string Membarrier = "membarrier";
    public const string PidfdOpen = "pidfd_open";
    public const string Clone3 = "clone3";
    public const string GetRandom = "getrandom";
    public const string Statx = "statx";
    public const string Seccomp = "seccomp";
    public const string Landlock = "landlock";

    private static readonly FrozenDictionary<string, Func<ProbeResult>> s_probes = new Dictionary<string, Func<ProbeResult>>
    {
        [Bpf] = ProbeBpf,
        [PerfEventOpen] = ProbePerfEventOpen,
        [IoUringSetup] = ProbeIoUring,
        [EpollPwait2] = ProbeEpollPwait2,
        [Membarrier] = ProbeMembarrier,
        [PidfdOpen] = ProbePidfdOpen,
        [Clone3] = ProbeClone3,
        [GetRandom] = ProbeGetRandom,
        [Statx] = ProbeStatx,
        [Seccomp] = ProbeSeccomp,
        [Landlock] = ProbeLandlock,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private static readonly FrozenDictionary<string, Lazy<ProbeResult>> s_cache =
        s_probes.ToFrozenDictionary(p => p.Key, p => new Lazy<ProbeResult>(p.Value), StringComparer.Ordinal);

    /// <summary>Feature names in the order doctor shows them.</summary>
    public static IReadOnlyList<string> Names { get; } =
        [Bpf, PerfEventOpen, IoUringSetup, EpollPwait2, Membarrier, PidfdOpen, Clone3, GetRandom, Statx, Seccomp, Landlock];

    /// <summary>The cached result of one probe (runs it the first time).</summary>
    public static ProbeResult Probe(string feature) =>
        s_cache.TryGetValue(feature, out Lazy<ProbeResult>? lazy) ? lazy.Value : throw new ArgumentException($"unknown probe '{feature}'", nameof(feature));

    /// <summary>Runs a probe again, bypassing the cache (leak tests).</summary>
    internal static ProbeResult ProbeUncached(string feature) =>
        s_probes.TryGetValue(feature, out Func<ProbeResult>? probe) ? probe() : throw new ArgumentException($"unknown probe '{feature}'", nameof(feature));

    private static unsafe ProbeResult ProbeBpf()
    {
        const uint MapTypeArray = 2, ProgTypeSocketFilter = 1;
        const string MapText = "bpf(BPF_MAP_CREATE, array key 4 value 4 entries 1)";
        const string ProgText = "bpf(BPF_PROG_LOAD, socket_filter, 2 insns: r0 = 0; exit)";
        var map = new MapCreateAttr { MapType = MapTypeArray, KeySize = 4, ValueSize = 4, MaxEntries = 1 };
        SafeFd mapFd;
        try
        {
            mapFd = Native.Bpf.MapCreate(ref map);
        }
        catch (KernelException e)
        {
            return Failed(Bpf, MapText, e.Errno);
        }
        using (mapFd)
        {
            // r0 = 0; exit
            ulong* insns = stackalloc ulong[2] { 0x00000000_000000b7UL, 0x00000000_00000095UL };
            byte* license = stackalloc byte[4] { (byte)'G', (byte)'P', (byte)'L', 0 };
            var prog = new ProgLoadAttr { ProgType = ProgTypeSocketFilter, InsnCnt = 2, Insns = (ulong)insns, License = (ulong)license };
            try
            {
                using SafeFd progFd = Native.Bpf.ProgLoad(ref prog);
            }
            catch (KernelException e)
            {
                ProbeResult failed = Failed(Bpf, ProgText, e.Errno);
                return failed with { Evidence = $"{MapText} = fd; {failed.Evidence}" };
            }
        }
        return new(Bpf, ProbeOutcome.Present, $"{MapText} = fd; {ProgText} = fd");
    }

    private static ProbeResult ProbePerfEventOpen()
    {
        const uint PerfTypeSoftware = 1, PerfCountSwCpuClock = 0;
        const string Text = "perf_event_open(software cpu-clock, this process, any cpu)";
        var attr = new PerfEventAttr
        {
            Type = PerfTypeSoftware,
            Config = PerfCountSwCpuClock,
            // disabled, and counting user time only: allowed even at perf_event_paranoid 2
            Flags = PerfEventAttrFlags.Disabled | PerfEventAttrFlags.ExcludeKernel | PerfEventAttrFlags.ExcludeHv,
        };
        try
        {
            using SafeFd fd = PerfEvents.Open(ref attr, pid: 0, cpu: -1);
        }
        catch (KernelException e)
        {
            return Failed(PerfEventOpen, Text, e.Errno, absent: [Errno.ENOSYS, Errno.ENOENT, Errno.ENODEV]);
        }
        return new(PerfEventOpen, ProbeOutcome.Present, $"{Text} = fd");
    }

    private static unsafe ProbeResult ProbeIoUring()
    {
        var p = default(IoUringParamsProbe);
        nint fd = Syscall.Invoke(SyscallNumbers.IoUringSetup, 1, (nint)(&p));
        Errno errno = fd < 0 ? KernelException.LastErrno() : Errno.None;
        const string Text = "io_uring_setup(1 entry)";
        if (fd < 0)
        {
            ProbeResult failed = Failed(IoUringSetup, Text, errno);
            return errno == Errno.EPERM ? failed with { Evidence = failed.Evidence + " (kernel.io_uring_disabled?)" } : failed;
        }
        using var handle = new SafeFd((int)fd);
        return new(IoUringSetup, ProbeOutcome.Present, $"{Text} = fd, features 0x{p.Features:x}");
    }

    private static unsafe ProbeResult ProbeEpollPwait2()
    {
        // An invalid epoll fd: a kernel with the syscall answers EBADF, one without ENOSYS.
        byte* events = stackalloc byte[16];
        return ExpectErrno(EpollPwait2, "epoll_pwait2(-1, 1 event, no timeout)", Syscall.Invoke(SyscallNumbers.EpollPwait2, -1, (nint)events, 1, 0, 0, 0), KernelException.LastErrno(), Errno.EBADF);
    }

    private static ProbeResult ProbeMembarrier()
    {
        nint mask = Syscall.Invoke(SyscallNumbers.Membarrier, 0 /* MEMBARRIER_CMD_QUERY */, 0, 0);
        Errno errno = mask < 0 ? KernelException.LastErrno() : Errno.None;
        const string Text = "membarrier(MEMBARRIER_CMD_QUERY)";
        return mask < 0 ? Failed(Membarrier, Text, errno) : new(Membarrier, ProbeOutcome.Present, $"{Text} = 0x{mask:x} (supported commands)");
    }

    private static ProbeResult ProbePidfdOpen()
    {
        nint fd = Syscall.Invoke(SyscallNumbers.PidfdOpen, Posix.GetPid(), 0);
        Errno errno = fd < 0 ? KernelException.LastErrno() : Errno.None;
        const string Text = "pidfd_open(self, 0)";
        if (fd < 0)
        {
            return Failed(PidfdOpen, Text, errno);
        }
        using var handle = new SafeFd((int)fd);
        return new(PidfdOpen, ProbeOutcome.Present, $"{Text} = fd");
    }

    // clone3(NULL, 0): the kernel rejects a size below CLONE_ARGS_SIZE_VER0 with EINVAL before doing anything.
    private static ProbeResult ProbeClone3() =>
        ExpectErrno(Clone3, "clone3(NULL, size 0)", Syscall.Invoke(SyscallNumbers.Clone3, 0, 0), KernelException.LastErrno(), Errno.EINVAL);

    private static unsafe ProbeResult ProbeGetRandom()
    {
        byte* buffer = stackalloc byte[16];
        nint n = Syscall.Invoke(SyscallNumbers.GetRandom, (nint)buffer, 16, 1 /* GRND_NONBLOCK */);
        Errno errno = n < 0 ? KernelException.LastErrno() : Errno.None;
        const string Text = "getrandom(16 bytes, GRND_NONBLOCK)";
        return n >= 0 ? new(GetRandom, ProbeOutcome.Present, $"{Text} = {n}")
            : errno == Errno.EAGAIN ? new(GetRandom, ProbeOutcome.Present, $"{Text} = EAGAIN (entropy pool not yet initialised)")
            : Failed(GetRandom, Text, errno);
    }

    private static unsafe ProbeResult ProbeStatx()
    {
        byte* buffer = stackalloc byte[256]; // struct statx is 256 bytes
        byte* path = stackalloc byte[2] { (byte)'/', 0 };
        nint r = Syscall.Invoke(SyscallNumbers.Statx, -100 /* AT_FDCWD */, (nint)path, 0, 0x7ff /* STATX_BASIC_STATS */, (nint)buffer);
        Errno errno = r < 0 ? KernelException.LastErrno() : Errno.None;
        const string Text = "statx(AT_FDCWD, \"/\", STATX_BASIC_STATS)";
        return r == 0 ? new(Statx, ProbeOutcome.Present, $"{Text} = 0") : Failed(Statx, Text, errno);
    }

    private static unsafe ProbeResult ProbeSeccomp()
    {
        uint action = 0x80000000; // SECCOMP_RET_KILL_PROCESS
        nint r = Syscall.Invoke(SyscallNumbers.Seccomp, 2 /* SECCOMP_GET_ACTION_AVAIL */, 0, (nint)(&action));
        Errno errno = r < 0 ? KernelException.LastErrno() : Errno.None;
        const string Text = "seccomp(SECCOMP_GET_ACTION_AVAIL, KILL_PROCESS)";
        return r == 0 ? new(Seccomp, ProbeOutcome.Present, $"{Text} = 0")
            : errno == Errno.EOPNOTSUPP ? new(Seccomp, ProbeOutcome.Present, $"{Text} = EOPNOTSUPP (syscall present, action unavailable)")
            : Failed(Seccomp, Text, errno);
    }

    private static ProbeResult ProbeLandlock()
    {
        nint abi = Syscall.Invoke(SyscallNumbers.LandlockCreateRuleset, 0, 0, 1 /* LANDLOCK_CREATE_RULESET_VERSION */);
        Errno errno = abi < 0 ? KernelException.LastErrno() : Errno.None;
        const string Text = "landlock_create_ruleset(NULL, 0, VERSION)";
        if (abi >= 0)
        {
            return new(Landlock, ProbeOutcome.Present, $"{Text} = ABI {abi}");
        }
        return errno == Errno.EOPNOTSUPP
            ? new(Landlock, ProbeOutcome.Absent, $"{Text} = EOPNOTSUPP (built in but not enabled: add landlock to lsm= on the kernel command line)")
            : Failed(Landlock, Text, errno);
    }

    private static ProbeResult ExpectErrno(string feature, string text, nint result, Errno errno, Errno expected)
    {
        if (result >= 0 || errno == expected)
        {
            return new(feature, ProbeOutcome.Present, $"{text} = {(result >= 0 ? result.ToString(System.Globalization.CultureInfo.InvariantCulture) : ErrnoText.Name(errno))} (the syscall exists)");
        }
        return Failed(feature, text, errno);
    }

    /// <summary>ENOSYS (and <paramref name="absent"/>) mean the kernel lacks it; EPERM/EACCES mean we could not test; others are reported as unknown.</summary>
    private static ProbeResult Failed(string feature, string text, Errno errno, Errno[]? absent = null)
    {
        string evidence = $"{text} = {ErrnoText.Name(errno)} ({ErrnoText.Describe(errno)})";
        if (errno == Errno.ENOSYS || (absent?.Contains(errno) ?? false))
        {
            return new(feature, ProbeOutcome.Absent, evidence);
        }
        return new(feature, ProbeOutcome.Unknown, errno is Errno.EPERM or Errno.EACCES ? evidence + ": not permitted, could not test" : evidence);
    }
}
