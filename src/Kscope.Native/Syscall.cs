namespace Kscope.Native;

/// <summary>
/// Linux syscalls that libc does not wrap everywhere, or wraps with a fallback that would hide the kernel's
/// own answer (glibc emulates statx with fstatat on kernels without it): one typed method each, named after
/// the syscall. A failure throws <see cref="KernelException"/> naming the call and the errno, so feature probes
/// read <see cref="KernelException.Errno"/> (ENOSYS: the kernel lacks it). The raw gateway is internal.
/// </summary>
public static unsafe class Syscall
{
    private const int AtFdCwd = -100;

    /// <summary>Raw gateway: returns the kernel's result or -1 with errno set (read it on the next line). Native only.</summary>
    internal static nint Invoke(nint number, nint a1 = 0, nint a2 = 0, nint a3 = 0, nint a4 = 0, nint a5 = 0, nint a6 = 0) =>
        Interop.Libc.Syscall(number, a1, a2, a3, a4, a5, a6);

    /// <summary>Invokes and throws <see cref="KernelException"/> on -1.</summary>
    private static nint Checked(string operation, nint number, nint a1 = 0, nint a2 = 0, nint a3 = 0, nint a4 = 0, nint a5 = 0)
    {
        nint result = Interop.Libc.Syscall(number, a1, a2, a3, a4, a5, 0);
        return result != -1 ? result : throw KernelException.FromErrno(operation, KernelException.LastErrno());
    }

    /// <summary>gettid(2).</summary>
    public static int GetTid() => (int)Interop.Libc.Syscall(SyscallNumbers.Gettid, 0, 0, 0, 0, 0, 0);

    /// <summary>pidfd_open(2) (5.3): a descriptor that refers to the process <paramref name="pid"/>.</summary>
    public static SafeFd PidfdOpen(int pid) => new((int)Checked($"pidfd_open({pid}, 0)", SyscallNumbers.PidfdOpen, pid, 0));

    /// <summary>membarrier(MEMBARRIER_CMD_QUERY, 0, 0) (4.3): the commands this kernel supports.</summary>
    public static MembarrierCommands MembarrierQuery() =>
        (MembarrierCommands)Checked("membarrier(MEMBARRIER_CMD_QUERY)", SyscallNumbers.Membarrier, (nint)MembarrierCommands.Query, 0, 0);

    /// <summary>getrandom(2) (3.17): fills <paramref name="buffer"/>, returns the bytes written. With <see cref="GetRandomFlags.NonBlock"/>, EAGAIN until the entropy pool is initialised.</summary>
    public static int GetRandom(Span<byte> buffer, GetRandomFlags flags)
    {
        fixed (byte* p = buffer)
        {
            return (int)Checked($"getrandom({buffer.Length} bytes, {flags})", SyscallNumbers.GetRandom, (nint)p, buffer.Length, (nint)flags);
        }
    }

    /// <summary>statx(2) (4.11) straight to the kernel, relative to the working directory, following symlinks.</summary>
    public static Statx Statx(string path, StatxMask mask)
    {
        byte[] name = Utf8Z(path);
        Statx result;
        fixed (byte* p = name)
        {
            Checked($"statx {path}", SyscallNumbers.Statx, AtFdCwd, (nint)p, 0, (nint)(uint)mask, (nint)(&result));
        }
        return result;
    }

    /// <summary>seccomp(SECCOMP_GET_ACTION_AVAIL, 0, &amp;action) (4.14): returns when the kernel knows the filter action; EOPNOTSUPP when it does not.</summary>
    public static void SeccompGetActionAvail(SeccompAction action)
    {
        const int GetActionAvail = 2; // SECCOMP_GET_ACTION_AVAIL, include/uapi/linux/seccomp.h
        uint value = (uint)action;
        Checked($"seccomp(SECCOMP_GET_ACTION_AVAIL, {action})", SyscallNumbers.Seccomp, GetActionAvail, 0, (nint)(&value));
    }

    /// <summary>landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION) (5.13): the highest Landlock ABI; EOPNOTSUPP when built in but not enabled.</summary>
    public static int LandlockAbiVersion()
    {
        const int CreateRulesetVersion = 1; // LANDLOCK_CREATE_RULESET_VERSION, include/uapi/linux/landlock.h
        return (int)Checked("landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION)", SyscallNumbers.LandlockCreateRuleset, 0, 0, CreateRulesetVersion);
    }

    /// <summary>io_uring_setup(2) (5.1): a ring of <paramref name="entries"/> submission entries; the kernel fills <paramref name="parameters"/>.</summary>
    public static SafeFd IoUringSetup(uint entries, ref IoUringParams parameters)
    {
        fixed (IoUringParams* p = &parameters)
        {
            return new SafeFd((int)Checked($"io_uring_setup({entries})", SyscallNumbers.IoUringSetup, (nint)entries, (nint)p));
        }
    }

    /// <summary>
    /// clone3(NULL, 0) (5.3), which creates nothing: a kernel with clone3 refuses a struct clone_args smaller than
    /// CLONE_ARGS_SIZE_VER0 with EINVAL before looking at it, one without answers ENOSYS. Returns that errno
    /// (a real clone3 from a multi-threaded runtime is not something to do for a probe).
    /// </summary>
    public static Errno Clone3WithoutArguments() =>
        Interop.Libc.Syscall(SyscallNumbers.Clone3, 0, 0, 0, 0, 0, 0) == -1 ? KernelException.LastErrno() : Errno.None;

    /// <summary>sched_getscheduler(2) of a thread: its policy, with SCHED_RESET_ON_FORK (0x40000000) when set.</summary>
    public static int SchedGetScheduler(int tid) => (int)Checked($"sched_getscheduler({tid})", SyscallNumbers.SchedGetScheduler, tid);

    /// <summary>tgkill(2): sends <paramref name="signal"/> to thread <paramref name="tid"/> of process <paramref name="tgid"/>. False when that thread is gone (ESRCH).</summary>
    public static bool Tgkill(int tgid, int tid, int signal)
    {
        if (Interop.Libc.Syscall(SyscallNumbers.Tgkill, tgid, tid, signal, 0, 0, 0) == 0)
        {
            return true;
        }
        Errno errno = KernelException.LastErrno();
        return errno == Errno.ESRCH ? false : throw KernelException.FromErrno($"tgkill(tid {tid}, signal {signal})", errno);
    }

    private static byte[] Utf8Z(string s)
    {
        var bytes = new byte[System.Text.Encoding.UTF8.GetByteCount(s) + 1];
        System.Text.Encoding.UTF8.GetBytes(s, bytes);
        return bytes;
    }
}
