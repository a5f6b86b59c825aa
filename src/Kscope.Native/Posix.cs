using System.Runtime.InteropServices;

namespace Kscope.Native;

/// <summary>Thin, checked wrappers over the libc calls the upper layers need.</summary>
public static unsafe class Posix
{
    /// <summary>open(2) with O_CLOEXEC always added.</summary>
    public static SafeFd Open(string path, OpenFlags flags, int mode = 0, string? hint = null) =>
        SafeFd.FromResult(Interop.Libc.Open(path, (int)(flags | OpenFlags.O_CLOEXEC), mode), $"open {path}", hint);

    /// <summary>read(2) once; retries EINTR. Returns 0 at end of file.</summary>
    public static int Read(SafeFd fd, Span<byte> buffer, string operation = "read")
    {
        bool added = false;
        fd.DangerousAddRef(ref added);
        try
        {
            fixed (byte* p = buffer)
            {
                while (true)
                {
                    nint n = Interop.Libc.Read(fd.Value, p, (nuint)buffer.Length);
                    if (n >= 0)
                    {
                        return (int)n;
                    }
                    Errno errno = KernelException.LastErrno();
                    if (errno != Errno.EINTR)
                    {
                        throw KernelException.FromErrno(operation, errno);
                    }
                }
            }
        }
        finally
        {
            if (added)
            {
                fd.DangerousRelease();
            }
        }
    }

    /// <summary>ioctl(2) with a pointer argument; returns the kernel's non-negative result or throws.</summary>
    public static int Ioctl(SafeFd fd, nuint request, nint argument, string operation)
    {
        bool added = false;
        fd.DangerousAddRef(ref added);
        try
        {
            int result = Interop.Libc.Ioctl(fd.Value, request, argument);
            if (result < 0)
            {
                throw KernelException.FromErrno(operation, KernelException.LastErrno());
            }
            return result;
        }
        finally
        {
            if (added)
            {
                fd.DangerousRelease();
            }
        }
    }

    /// <summary>uname(2).</summary>
    public static (string SysName, string NodeName, string Release, string Version, string Machine) Uname()
    {
        UtsName u;
        if (Interop.Libc.Uname(&u) != 0)
        {
            throw KernelException.FromErrno("uname", KernelException.LastErrno());
        }
        return (Str(u.Sysname), Str(u.Nodename), Str(u.Release), Str(u.Version), Str(u.Machine));

        static string Str(byte* p) => Marshal.PtrToStringUTF8((nint)p) ?? "";
    }

    /// <summary>prlimit64(2) read of a resource (RLIMIT_NOFILE = 7, RLIMIT_MEMLOCK = 8) for a pid (0 = self).</summary>
    public static RLimit GetRLimit(int resource, int pid = 0)
    {
        RLimit old;
        if (Interop.Libc.PrLimit(pid, resource, null, &old) != 0)
        {
            throw KernelException.FromErrno($"prlimit64(pid {pid}, resource {resource})", KernelException.LastErrno());
        }
        return old;
    }

    /// <summary>prlimit64(2) write for the calling process.</summary>
    public static void SetRLimit(int resource, RLimit limit)
    {
        if (Interop.Libc.PrLimit(0, resource, &limit, null) != 0)
        {
            throw KernelException.FromErrno($"prlimit64(resource {resource})", KernelException.LastErrno());
        }
    }

    /// <summary>prctl(2); returns the result or throws.</summary>
    public static int Prctl(int option, nuint arg2 = 0, nuint arg3 = 0, nuint arg4 = 0, nuint arg5 = 0)
    {
        int r = Interop.Libc.Prctl(option, arg2, arg3, arg4, arg5);
        return r >= 0 ? r : throw KernelException.FromErrno($"prctl({option})", KernelException.LastErrno());
    }

    /// <summary>mount(2).</summary>
    public static void Mount(string source, string target, string fileSystemType, nuint flags = 0, string? data = null)
    {
        if (Interop.Libc.Mount(source, target, fileSystemType, flags, data) != 0)
        {
            throw KernelException.FromErrno($"mount {fileSystemType} on {target}", KernelException.LastErrno());
        }
    }

    /// <summary>glibc's version string, e.g. "2.36".</summary>
    public static string GlibcVersion() => Marshal.PtrToStringUTF8((nint)Interop.Libc.GnuGetLibcVersion()) ?? "";

    public static int GetPid() => Interop.Libc.GetPid();

    /// <summary>sysconf(_SC_NPROCESSORS_ONLN = 84, _SC_PAGESIZE = 30 …).</summary>
    public static long Sysconf(int name) => Interop.Libc.Sysconf(name);
}
