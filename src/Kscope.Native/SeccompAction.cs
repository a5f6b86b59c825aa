namespace Kscope.Native;

/// <summary>Seccomp filter return actions (SECCOMP_RET_*), include/uapi/linux/seccomp.h.</summary>
public enum SeccompAction : uint
{
    KillProcess = 0x80000000,
    KillThread = 0x00000000,
    Trap = 0x00030000,
    Errno = 0x00050000,
    UserNotif = 0x7fc00000,
    Trace = 0x7ff00000,
    Log = 0x7ffc0000,
    Allow = 0x7fff0000,
}
