using System.Runtime.InteropServices;

namespace Kscope.Native;

/// <summary>
/// A file descriptor owned by kscope; closed exactly once in <see cref="ReleaseHandle"/>.
/// Invalid when negative (STYLE.md P1: never let a failed -1 masquerade as a valid 0xFFFFFFFF).
/// </summary>
public sealed class SafeFd : SafeHandle
{
    public SafeFd() : base(new IntPtr(-1), ownsHandle: true)
    {
    }

    public SafeFd(int fd, bool ownsHandle = true) : base(new IntPtr(-1), ownsHandle)
    {
        SetHandle(new IntPtr(fd));
    }

    public override bool IsInvalid => (long)handle is < 0 or > int.MaxValue;

    /// <summary>The raw descriptor, for syscalls that take it inside a struct (bpf_attr, epoll_event…).</summary>
    public int Value => IsClosed ? throw new ObjectDisposedException(nameof(SafeFd)) : (int)(long)handle;

    protected override bool ReleaseHandle() => Interop.Libc.Close((int)(long)handle) == 0;

    /// <summary>Wraps a syscall's return value: a valid fd, or throws the errno of that call.</summary>
    public static SafeFd FromResult(int fd, string operation, string? hint = null) =>
        fd >= 0 ? new SafeFd(fd) : throw KernelException.FromErrno(operation, KernelException.LastErrno(), hint);
}
