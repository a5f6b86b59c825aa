namespace Kscope.Native;

/// <summary>Sending signals to processes (kill(2)).</summary>
public static class Signals
{
    public const int SigKill = 9;
    public const int SigTerm = 15;
    public const int SigCont = 18;
    public const int SigStop = 19;

    /// <summary>kill(pid, signal); throws KernelException (ESRCH, EPERM…) on failure.</summary>
    public static void Send(int pid, int signal)
    {
        if (Interop.Libc.Kill(pid, signal) != 0)
        {
            Errno errno = KernelException.LastErrno();
            throw KernelException.FromErrno($"kill {pid} signal {signal}", errno);
        }
    }
}
