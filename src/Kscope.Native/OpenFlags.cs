namespace Kscope.Native;

/// <summary>open(2) flags, include/uapi/asm-generic/fcntl.h (x86_64 and arm64 agree on these except O_DIRECTORY/O_NOFOLLOW/O_DIRECT).</summary>
[Flags]
public enum OpenFlags
{
    O_RDONLY = 0x0,
    O_WRONLY = 0x1,
    O_RDWR = 0x2,
    O_CREAT = 0x40,
    O_EXCL = 0x80,
    O_NOCTTY = 0x100,
    O_TRUNC = 0x200,
    O_APPEND = 0x400,
    O_NONBLOCK = 0x800,
    O_CLOEXEC = 0x80000,
}
