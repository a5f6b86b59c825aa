namespace Kscope.Native;

/// <summary>eventfd(2): a counter fd used to wake an epoll wait (<see cref="Poller.Wake"/>).</summary>
public static unsafe class EventFd
{
    private const int CloExec = 0x80000;
    private const int NonBlock = 0x800;

    public static SafeFd Create() => SafeFd.FromResult(Interop.Libc.EventFd(0, CloExec | NonBlock), "eventfd");

    /// <summary>Adds 1 to the counter, waking waiters. Throws <see cref="ObjectDisposedException"/> once the fd is closed.</summary>
    public static void Signal(SafeFd fd)
    {
        ulong one = 1;
        bool added = false;
        fd.DangerousAddRef(ref added);
        try
        {
            Interop.Libc.Write(fd.Value, (byte*)&one, 8);
        }
        finally
        {
            if (added)
            {
                fd.DangerousRelease();
            }
        }
    }

    /// <summary>Reads (and so resets) the counter of a non-blocking eventfd; 0 when it was not signalled.</summary>
    public static ulong Consume(SafeFd fd)
    {
        ulong value = 0;
        bool added = false;
        fd.DangerousAddRef(ref added);
        try
        {
            return Interop.Libc.Read(fd.Value, (byte*)&value, 8) == 8 ? value : 0; // EAGAIN: nothing pending
        }
        finally
        {
            if (added)
            {
                fd.DangerousRelease();
            }
        }
    }
}
