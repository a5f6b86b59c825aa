namespace Kscope.Native;

/// <summary>eventfd(2): a counter fd used to wake an epoll wait (cancellation of ring readers).</summary>
public static unsafe class EventFd
{
    private const int CloExec = 0x80000;
    private const int NonBlock = 0x800;

    public static SafeFd Create() => SafeFd.FromResult(Interop.Libc.EventFd(0, CloExec | NonBlock), "eventfd");

    /// <summary>Adds 1 to the counter, waking waiters.</summary>
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
}
