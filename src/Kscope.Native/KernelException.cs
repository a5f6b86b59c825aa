using System.Runtime.InteropServices;

namespace Kscope.Native;

/// <summary>
/// A failed syscall: which call, the errno (by name), the kernel's text for it, and what a user can do.
/// Message format (STYLE.md): lowercase context, then cause —
/// <c>open /sys/kernel/btf/vmlinux: No such file or directory (ENOENT)</c>.
/// </summary>
public class KernelException : Exception
{
    public KernelException(string operation, Errno errno, string? hint = null, Exception? inner = null)
        : base(Format(operation, errno, hint), inner)
    {
        Operation = operation;
        Errno = errno;
        Hint = hint;
    }

    /// <summary>What was attempted, e.g. <c>bpf(BPF_MAP_CREATE)</c> or <c>open /dev/kvm</c>.</summary>
    public string Operation { get; }

    public Errno Errno { get; }

    /// <summary>What the user can do about it, e.g. "needs CAP_BPF or root"; null when nothing useful.</summary>
    public string? Hint { get; }

    /// <summary>The errno's symbolic name (EPERM, EINVAL…), or the number when unnamed.</summary>
    public string ErrnoName => ErrnoText.Name(Errno);

    /// <summary>Builds the right subclass for an errno: permission errors become <see cref="KernelPermissionException"/>.</summary>
    public static KernelException FromErrno(string operation, Errno errno, string? hint = null) => errno switch
    {
        Errno.EPERM or Errno.EACCES => new KernelPermissionException(operation, errno, hint),
        _ => new KernelException(operation, errno, hint),
    };

    /// <summary>The errno of the P/Invoke that just returned (call on the very next line: STYLE.md P2).</summary>
    public static Errno LastErrno() => (Errno)Marshal.GetLastPInvokeError();

    private static string Format(string operation, Errno errno, string? hint)
    {
        string text = $"{operation}: {ErrnoText.Describe(errno)} ({ErrnoText.Name(errno)})";
        return hint is null ? text : $"{text}; {hint}";
    }
}

/// <summary>EPERM or EACCES: the caller lacks a privilege (root, a capability, an LSM or lockdown said no).</summary>
public sealed class KernelPermissionException : KernelException
{
    public KernelPermissionException(string operation, Errno errno, string? hint = null)
        : base(operation, errno, hint ?? "run as root or grant the capability it needs")
    {
    }
}

/// <summary>The running kernel lacks a feature; carries the first kernel version that has it, when known.</summary>
public sealed class KernelFeatureNotSupportedException : KernelException
{
    public KernelFeatureNotSupportedException(string feature, string? minimumKernel, Errno errno = Errno.EOPNOTSUPP, string? detail = null)
        : base(feature, errno, Describe(minimumKernel, detail))
    {
        Feature = feature;
        MinimumKernel = minimumKernel;
    }

    public string Feature { get; }

    /// <summary>e.g. "5.8"; null when the feature is a build option rather than a version.</summary>
    public string? MinimumKernel { get; }

    private static string Describe(string? minimumKernel, string? detail)
    {
        string s = minimumKernel is null ? "not supported by this kernel" : $"not supported by this kernel (needs Linux {minimumKernel} or later)";
        return detail is null ? s : $"{s}: {detail}";
    }
}
