using Kscope.Native;

namespace Kscope.Kernel.Bpf;

/// <summary>
/// RLIMIT_MEMLOCK: kernels before 5.11 charge BPF maps and programs to it (newer ones use memcg).
/// Raised to infinity once per process when it is finite; a failure to raise is not fatal (the later
/// syscall reports EPERM/ENOMEM with a hint).
/// </summary>
public static class Memlock
{
    private const int RlimitMemlock = 8;
    private static int s_done;

    public static void RaiseOnce()
    {
        if (Interlocked.Exchange(ref s_done, 1) != 0)
        {
            return;
        }
        try
        {
            RLimit current = Posix.GetRLimit(RlimitMemlock);
            if (current.Current != ulong.MaxValue)
            {
                Posix.SetRLimit(RlimitMemlock, new RLimit { Current = ulong.MaxValue, Maximum = ulong.MaxValue });
            }
        }
        catch (KernelException)
        {
        }
    }
}
