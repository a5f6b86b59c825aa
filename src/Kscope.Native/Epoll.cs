using System.Runtime.InteropServices;

namespace Kscope.Native;

/// <summary>An epoll instance (epoll_create1(EPOLL_CLOEXEC)); readers of perf and BPF rings wait on it.</summary>
public sealed unsafe class Epoll : IDisposable
{
    public const uint In = 0x001;
    public const uint Err = 0x008;
    public const uint Hup = 0x010;

    private const int CtlAdd = 1;
    private const int CtlDel = 2;
    private const int CloExec = 0x80000;
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
        if (Interop.Libc.EpollCtl(_fd.Value, CtlAdd, fd.Value, raw) != 0)
        {
            throw KernelException.FromErrno($"epoll_ctl add fd {fd.Value}", KernelException.LastErrno());
        }
    }

    public void Remove(SafeFd fd)
    {
        if (Interop.Libc.EpollCtl(_fd.Value, CtlDel, fd.Value, null) != 0)
        {
            throw KernelException.FromErrno($"epoll_ctl del fd {fd.Value}", KernelException.LastErrno());
        }
    }

    /// <summary>epoll_wait; returns the number of ready events (0 on timeout or EINTR). timeout -1 waits forever.</summary>
    public int Wait(Span<EpollEvent> events, int timeoutMilliseconds)
    {
        int stride = s_packed ? 12 : 16;
        int max = Math.Min(events.Length, 64);
        byte* raw = stackalloc byte[64 * 16];
        int n = Interop.Libc.EpollWait(_fd.Value, raw, max, timeoutMilliseconds);
        if (n < 0)
        {
            Errno errno = KernelException.LastErrno();
            return errno == Errno.EINTR ? 0 : throw KernelException.FromErrno("epoll_wait", errno);
        }
        for (int i = 0; i < n; i++)
        {
            byte* e = raw + (i * stride);
            events[i] = new EpollEvent { Events = *(uint*)e, Data = *(ulong*)(e + stride - 8) };
        }
        return n;
    }

    public void Dispose() => _fd.Dispose();

    private static void Write(byte* raw, EpollEvent e)
    {
        int stride = s_packed ? 12 : 16;
        *(uint*)raw = e.Events;
        *(ulong*)(raw + stride - 8) = e.Data;
    }
}
