using System.Runtime.InteropServices;

namespace Kscope.Native;

/// <summary>
/// An epoll instance (epoll_create1(EPOLL_CLOEXEC)). Readers of perf and BPF rings use it through
/// <see cref="Poller"/>, which adds the wake eventfd and the wait/dispose handshake. Every call holds a
/// SafeHandle reference on the descriptors it passes to the kernel, so a concurrent Dispose defers the
/// close until the call (a blocking epoll_wait included) has returned: the number is never reused under it.
/// </summary>
public sealed unsafe class Epoll : IDisposable
{
    public const uint In = 0x001;
    public const uint Err = 0x008;
    public const uint Hup = 0x010;

    private const int CtlAdd = 1;
    private const int CtlDel = 2;
    private const int CloExec = 0x80000;
    private const int MaxEvents = 64;
    private static readonly bool s_packed = RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.X86;

    private readonly SafeFd _fd;

    public Epoll()
    {
        _fd = SafeFd.FromResult(Interop.Libc.EpollCreate1(CloExec), "epoll_create1");
    }

    public SafeFd Handle => _fd;

    /// <summary>epoll_ctl(EPOLL_CTL_ADD): report <paramref name="events"/> on <paramref name="fd"/> with cookie <paramref name="data"/>.</summary>
    public void Add(SafeFd fd, uint events, ulong data)
    {
        byte* raw = stackalloc byte[16];
        Write(raw, new EpollEvent { Events = events, Data = data });
        Control(CtlAdd, fd, raw, "add");
    }

    public void Remove(SafeFd fd) => Control(CtlDel, fd, null, "del");

    /// <summary>
    /// epoll_wait; returns the number of ready events (0 on timeout or EINTR), at most 64 per call.
    /// timeout -1 waits forever. Throws <see cref="ObjectDisposedException"/> once disposed.
    /// </summary>
    public int Wait(Span<EpollEvent> events, int timeoutMilliseconds) => WaitCore(events, timeoutMilliseconds, null);

    /// <summary>epoll_pwait2(2) (5.11): <see cref="Wait(Span{EpollEvent}, int)"/> with a nanosecond timeout (<see cref="TimeSpan.Zero"/> polls). ENOSYS before 5.11.</summary>
    public int Wait(Span<EpollEvent> events, TimeSpan timeout)
    {
        KernelTimespec ts = KernelTimespec.From(timeout);
        return WaitCore(events, 0, &ts);
    }

    private int WaitCore(Span<EpollEvent> events, int timeoutMilliseconds, KernelTimespec* timeout)
    {
        int stride = s_packed ? 12 : 16;
        int max = Math.Min(events.Length, MaxEvents);
        if (max == 0)
        {
            throw new ArgumentException("epoll_wait needs room for at least one event", nameof(events));
        }
        byte* raw = stackalloc byte[MaxEvents * 16];
        bool added = false;
        int n;
        Errno errno = Errno.None;
        try
        {
            _fd.DangerousAddRef(ref added);
            n = timeout is null
                ? Interop.Libc.EpollWait(_fd.Value, raw, max, timeoutMilliseconds)
                : (int)Syscall.Invoke(SyscallNumbers.EpollPwait2, _fd.Value, (nint)raw, max, (nint)timeout, 0, 0); // no sigmask
            if (n < 0)
            {
                errno = KernelException.LastErrno();
            }
        }
        finally
        {
            if (added)
            {
                _fd.DangerousRelease();
            }
        }
        if (n < 0)
        {
            return errno == Errno.EINTR ? 0 : throw KernelException.FromErrno(timeout is null ? "epoll_wait" : "epoll_pwait2", errno);
        }
        for (int i = 0; i < n; i++)
        {
            byte* e = raw + (i * stride);
            events[i] = new EpollEvent { Events = *(uint*)e, Data = *(ulong*)(e + stride - 8) };
        }
        return n;
    }

    public void Dispose() => _fd.Dispose();

    private void Control(int op, SafeFd fd, byte* @event, string name)
    {
        bool self = false, target = false;
        try
        {
            _fd.DangerousAddRef(ref self);
            fd.DangerousAddRef(ref target);
            if (Interop.Libc.EpollCtl(_fd.Value, op, fd.Value, @event) != 0)
            {
                throw KernelException.FromErrno($"epoll_ctl {name} fd {fd.Value}", KernelException.LastErrno());
            }
        }
        finally
        {
            if (target)
            {
                fd.DangerousRelease();
            }
            if (self)
            {
                _fd.DangerousRelease();
            }
        }
    }

    private static void Write(byte* raw, EpollEvent e)
    {
        int stride = s_packed ? 12 : 16;
        *(uint*)raw = e.Events;
        *(ulong*)(raw + stride - 8) = e.Data;
    }
}
