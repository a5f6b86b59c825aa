using System.Collections.Frozen;
using Kscope.Kernel.Bpf;
using Kscope.Kernel.Bpf.Asm;
using Kscope.Native;
using Kscope.Native.Bpf;
using Kscope.Native.Perf;

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
        const string MapText = "bpf(BPF_MAP_CREATE, array key 4 value 4 entries 1)";
        const string ProgText = "bpf(BPF_PROG_LOAD, socket_filter, 2 insns: r0 = 0; exit)";
        var map = new MapCreateAttr { MapType = (uint)MapType.Array, KeySize = 4, ValueSize = 4, MaxEntries = 1 };
        SafeFd mapFd;
        try
        {
            mapFd = Native.Bpf.Bpf.MapCreate(ref map);
        }
        catch (KernelException e)
        {
            return Failed(Bpf, MapText, e.Errno);
        }
        using (mapFd)
        {
            byte[] insns = new InstructionList { Asm.Mov.Imm(Register.R0, 0), Asm.Exit() }.Encode();
            byte* license = stackalloc byte[4] { (byte)'G', (byte)'P', (byte)'L', 0 };
            fixed (byte* code = insns)
            {
                var prog = new ProgLoadAttr
                {
                    ProgType = (uint)ProgramType.SocketFilter,
                    InsnCnt = (uint)(insns.Length / Instruction.SlotSize),
                    Insns = (ulong)code,
                    License = (ulong)license,
                };
                try
                {
                    using SafeFd progFd = Native.Bpf.Bpf.ProgLoad(ref prog);
                }
                catch (KernelException e)
                {
                    ProbeResult failed = Failed(Bpf, ProgText, e.Errno);
                    return failed with { Evidence = $"{MapText} = fd; {failed.Evidence}" };
                }
            }
        }
        return new(Bpf, FeatureStatus.Present, $"{MapText} = fd; {ProgText} = fd");
    }

    private static ProbeResult ProbePerfEventOpen()
    {
        const string Text = "perf_event_open(software cpu-clock, this process, any cpu)";
        var attr = new PerfEventAttr
        {
            Type = PerfEvents.TypeSoftware,
            Config = PerfEvents.SoftwareCpuClock,
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
        return new(PerfEventOpen, FeatureStatus.Present, $"{Text} = fd");
    }

    private static ProbeResult ProbeIoUring()
    {
        const string Text = "io_uring_setup(1 entry)";
        var p = default(IoUringParams);
        try
        {
            using SafeFd fd = Syscall.IoUringSetup(1, ref p);
        }
        catch (KernelException e)
        {
            ProbeResult failed = Failed(IoUringSetup, Text, e.Errno);
            return e.Errno == Errno.EPERM ? failed with { Evidence = failed.Evidence + " (kernel.io_uring_disabled?)" } : failed;
        }
        return new(IoUringSetup, FeatureStatus.Present, $"{Text} = fd, features 0x{p.Features:x}");
    }

    private static ProbeResult ProbeEpollPwait2()
    {
        const string Text = "epoll_pwait2(an empty epoll set, timeout 0)";
        try
        {
            using var epoll = new Epoll();
            Span<EpollEvent> events = stackalloc EpollEvent[1];
            int n = epoll.Wait(events, TimeSpan.Zero);
            return new(EpollPwait2, FeatureStatus.Present, $"{Text} = {n}");
        }
        catch (KernelException e)
        {
            return Failed(EpollPwait2, Text, e.Errno);
        }
    }

    private static ProbeResult ProbeMembarrier()
    {
        const string Text = "membarrier(MEMBARRIER_CMD_QUERY)";
        try
        {
            MembarrierCommands supported = Syscall.MembarrierQuery();
            return new(Membarrier, FeatureStatus.Present, $"{Text} = 0x{(int)supported:x} (supported commands)");
        }
        catch (KernelException e)
        {
            return Failed(Membarrier, Text, e.Errno);
        }
    }

    private static ProbeResult ProbePidfdOpen()
    {
        const string Text = "pidfd_open(self, 0)";
        try
        {
            using SafeFd fd = Syscall.PidfdOpen(Posix.GetPid());
        }
        catch (KernelException e)
        {
            return Failed(PidfdOpen, Text, e.Errno);
        }
        return new(PidfdOpen, FeatureStatus.Present, $"{Text} = fd");
    }

    // clone3(NULL, 0): the kernel rejects a size below CLONE_ARGS_SIZE_VER0 with EINVAL before doing anything.
    private static ProbeResult ProbeClone3() =>
        ExpectErrno(Clone3, "clone3(NULL, size 0)", Syscall.Clone3WithoutArguments(), Errno.EINVAL);

    private static ProbeResult ProbeGetRandom()
    {
        const string Text = "getrandom(16 bytes, GRND_NONBLOCK)";
        Span<byte> buffer = stackalloc byte[16];
        try
        {
            int n = Syscall.GetRandom(buffer, GetRandomFlags.NonBlock);
            return new(GetRandom, FeatureStatus.Present, $"{Text} = {n}");
        }
        catch (KernelException e) when (e.Errno == Errno.EAGAIN)
        {
            return new(GetRandom, FeatureStatus.Present, $"{Text} = EAGAIN (entropy pool not yet initialised)");
        }
        catch (KernelException e)
        {
            return Failed(GetRandom, Text, e.Errno);
        }
    }

    private static ProbeResult ProbeStatx()
    {
        const string Text = "statx(AT_FDCWD, \"/\", STATX_BASIC_STATS)";
        try
        {
            var st = Syscall.Statx("/", StatxMask.BasicStats);
            return new(Statx, FeatureStatus.Present, $"{Text} = 0 (mask 0x{st.Mask:x})");
        }
        catch (KernelException e)
        {
            return Failed(Statx, Text, e.Errno);
        }
    }

    private static ProbeResult ProbeSeccomp()
    {
        const string Text = "seccomp(SECCOMP_GET_ACTION_AVAIL, KILL_PROCESS)";
        try
        {
            Syscall.SeccompGetActionAvail(SeccompAction.KillProcess);
            return new(Seccomp, FeatureStatus.Present, $"{Text} = 0");
        }
        catch (KernelException e) when (e.Errno == Errno.EOPNOTSUPP)
        {
            return new(Seccomp, FeatureStatus.Present, $"{Text} = EOPNOTSUPP (syscall present, action unavailable)");
        }
        catch (KernelException e)
        {
            return Failed(Seccomp, Text, e.Errno);
        }
    }

    private static ProbeResult ProbeLandlock()
    {
        const string Text = "landlock_create_ruleset(NULL, 0, VERSION)";
        try
        {
            return new(Landlock, FeatureStatus.Present, $"{Text} = ABI {Syscall.LandlockAbiVersion()}");
        }
        catch (KernelException e) when (e.Errno == Errno.EOPNOTSUPP)
        {
            return new(Landlock, FeatureStatus.Absent, $"{Text} = EOPNOTSUPP (built in but not enabled: add landlock to lsm= on the kernel command line)");
        }
        catch (KernelException e)
        {
            return Failed(Landlock, Text, e.Errno);
        }
    }

    /// <summary>A probe whose call must fail: <paramref name="expected"/> (or success) proves the syscall exists.</summary>
    private static ProbeResult ExpectErrno(string feature, string text, Errno errno, Errno expected)
    {
        if (errno == Errno.None || errno == expected)
        {
            return new(feature, FeatureStatus.Present, $"{text} = {(errno == Errno.None ? "0" : ErrnoText.Name(errno))} (the syscall exists)");
        }
        return Failed(feature, text, errno);
    }

    /// <summary>ENOSYS (and <paramref name="absent"/>) mean the kernel lacks it; EPERM/EACCES mean we could not test; others are reported as unknown.</summary>
    private static ProbeResult Failed(string feature, string text, Errno errno, Errno[]? absent = null)
    {
        string evidence = $"{text} = {ErrnoText.Name(errno)} ({ErrnoText.Describe(errno)})";
        if (errno == Errno.ENOSYS || (absent?.Contains(errno) ?? false))
        {
            return new(feature, FeatureStatus.Absent, evidence);
        }
        return new(feature, FeatureStatus.Unknown, errno is Errno.EPERM or Errno.EACCES ? evidence + ": not permitted, could not test" : evidence);
    }
}
