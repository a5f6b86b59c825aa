using System.Runtime.InteropServices;

namespace Kscope.Native;

/// <summary>
/// Syscall numbers that differ per architecture (arch/x86/entry/syscalls/syscall_64.tbl,
/// include/uapi/asm-generic/unistd.h for arm64). Only syscalls libc does not wrap everywhere.
/// </summary>
public static class SyscallNumbers
{
    private static readonly bool s_arm64 = RuntimeInformation.ProcessArchitecture == Architecture.Arm64;

    public static nint Bpf => s_arm64 ? 280 : 321;
    public static nint PerfEventOpen => s_arm64 ? 241 : 298;
    public static nint IoUringSetup => 425;
    public static nint EpollPwait2 => 441;
    public static nint Membarrier => s_arm64 ? 283 : 324;
    public static nint PidfdOpen => 434;
    public static nint Clone3 => 435;
    public static nint GetRandom => s_arm64 ? 278 : 318;
    public static nint Statx => s_arm64 ? 291 : 332;
    public static nint Seccomp => s_arm64 ? 277 : 317;
    public static nint LandlockCreateRuleset => 444;
    public static nint Capget => s_arm64 ? 90 : 125;
    public static nint Gettid => s_arm64 ? 178 : 186;
    public static nint MemfdCreate => s_arm64 ? 279 : 319;
    public static nint PidfdSendSignal => 424;
    public static nint Tgkill => s_arm64 ? 131 : 234;
}

/// <summary>Raw syscall gateway: returns the kernel's result or -1 with errno set (read it on the next line).</summary>
public static class Syscall
{
    public static nint Invoke(nint number, nint a1 = 0, nint a2 = 0, nint a3 = 0, nint a4 = 0, nint a5 = 0, nint a6 = 0) =>
        Interop.Libc.Syscall(number, a1, a2, a3, a4, a5, a6);

    /// <summary>Invokes and throws <see cref="KernelException"/> on -1.</summary>
    public static nint Checked(string operation, nint number, nint a1 = 0, nint a2 = 0, nint a3 = 0, nint a4 = 0, nint a5 = 0, nint a6 = 0)
    {
        nint result = Interop.Libc.Syscall(number, a1, a2, a3, a4, a5, a6);
        if (result == -1)
        {
            throw KernelException.FromErrno(operation, KernelException.LastErrno());
        }
        return result;
    }

    public static int GetTid() => (int)Interop.Libc.Syscall(SyscallNumbers.Gettid, 0, 0, 0, 0, 0, 0);
}
