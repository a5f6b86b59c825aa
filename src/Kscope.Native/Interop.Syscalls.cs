using System.Runtime.InteropServices;

namespace Kscope.Native;

/// <summary>
/// Syscall numbers that differ per architecture (arch/x86/entry/syscalls/syscall_64.tbl,
/// include/uapi/asm-generic/unistd.h for arm64). Only syscalls libc does not wrap everywhere. Internal: the
/// rest of kscope calls the typed wrappers in <see cref="Syscall"/>, <see cref="Bpf"/>, <see cref="PerfEvents"/>.
/// </summary>
internal static class SyscallNumbers
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
    public static nint SchedGetScheduler => s_arm64 ? 120 : 145;
}
