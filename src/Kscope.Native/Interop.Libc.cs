using System.Runtime.InteropServices;

namespace Kscope.Native;

// Plain libc entry points. Variadic functions (open, ioctl, syscall, prctl) are imported with a fixed
// arity; that is ABI-safe on x86_64 and arm64 Linux, the two architectures kscope builds for (STYLE.md P3).
internal static partial class Interop
{
    internal static unsafe partial class Libc
    {
        private const string LibC = "libc";

        [LibraryImport(LibC, EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        internal static partial int Open(string path, int flags, int mode);

        [LibraryImport(LibC, EntryPoint = "close", SetLastError = true)]
        internal static partial int Close(int fd);

        [LibraryImport(LibC, EntryPoint = "read", SetLastError = true)]
        internal static partial nint Read(int fd, byte* buffer, nuint count);

        [LibraryImport(LibC, EntryPoint = "write", SetLastError = true)]
        internal static partial nint Write(int fd, byte* buffer, nuint count);

        [LibraryImport(LibC, EntryPoint = "pread64", SetLastError = true)]
        internal static partial nint PRead(int fd, byte* buffer, nuint count, long offset);

        // int ioctl(int fd, unsigned long request, ...): one pointer-sized argument.
        [LibraryImport(LibC, EntryPoint = "ioctl", SetLastError = true)]
        internal static partial int Ioctl(int fd, nuint request, nint argument);

        // long syscall(long number, ...): six register-sized arguments cover every Linux syscall.
        [LibraryImport(LibC, EntryPoint = "syscall", SetLastError = true)]
        internal static partial nint Syscall(nint number, nint a1, nint a2, nint a3, nint a4, nint a5, nint a6);

        [LibraryImport(LibC, EntryPoint = "uname", SetLastError = true)]
        internal static partial int Uname(UtsName* buffer);

        [LibraryImport(LibC, EntryPoint = "prlimit64", SetLastError = true)]
        internal static partial int PrLimit(int pid, int resource, RLimit* newLimit, RLimit* oldLimit);

        // int prctl(int option, unsigned long arg2, ..., arg5)
        [LibraryImport(LibC, EntryPoint = "prctl", SetLastError = true)]
        internal static partial int Prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

        [LibraryImport(LibC, EntryPoint = "mount", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        internal static partial int Mount(string source, string target, string fileSystemType, nuint flags, string? data);

        [LibraryImport(LibC, EntryPoint = "umount2", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        internal static partial int Umount2(string target, int flags);

        [LibraryImport(LibC, EntryPoint = "gnu_get_libc_version")]
        internal static partial byte* GnuGetLibcVersion();

        [LibraryImport(LibC, EntryPoint = "__xpg_strerror_r")]
        private static partial int XpgStrError(int errnum, byte* buffer, nuint length);

        internal static byte* StrError(int errnum, byte* buffer, int length) =>
            XpgStrError(errnum, buffer, (nuint)length) == 0 ? buffer : null;

        [LibraryImport(LibC, EntryPoint = "mmap", SetLastError = true)]
        internal static partial nint Mmap(nint address, nuint length, int protection, int flags, int fd, long offset);

        [LibraryImport(LibC, EntryPoint = "munmap", SetLastError = true)]
        internal static partial int Munmap(nint address, nuint length);

        [LibraryImport(LibC, EntryPoint = "getpid")]
        internal static partial int GetPid();

        [LibraryImport(LibC, EntryPoint = "sysconf", SetLastError = true)]
        internal static partial long Sysconf(int name);
    }
}

// struct utsname, include/uapi/linux/utsname.h (new_utsname): six 65-byte fields. glibc's
// struct utsname on Linux is the kernel's new_utsname byte for byte (uname(2) copies it out).
[StructLayout(LayoutKind.Sequential)]
[KernelStruct("new_utsname")]
internal unsafe struct UtsName
{
    internal const int FieldLength = 65;
    public fixed byte Sysname[FieldLength];
    public fixed byte Nodename[FieldLength];
    public fixed byte Release[FieldLength];
    public fixed byte Version[FieldLength];
    public fixed byte Machine[FieldLength];
    public fixed byte Domainname[FieldLength];
}

// struct rlimit64, include/uapi/linux/resource.h
[StructLayout(LayoutKind.Sequential)]
[KernelStruct("rlimit64")]
public struct RLimit
{
    [KernelField("rlim_cur")]
    public ulong Current;

    [KernelField("rlim_max")]
    public ulong Maximum;
}
