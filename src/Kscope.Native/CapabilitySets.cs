namespace Kscope.Native;

/// <summary>A thread's capability sets as 64-bit masks (bit n = capability n, include/uapi/linux/capability.h).</summary>
public readonly record struct CapabilitySets(ulong Effective, ulong Permitted, ulong Inheritable)
{
    /// <summary>capget(2), version 3, for <paramref name="pid"/> (0 = the calling thread).</summary>
    public static unsafe CapabilitySets Capget(int pid = 0)
    {
        var header = new UserCapHeader { Version = UserCapHeader.Version3, Pid = pid };
        UserCapData* data = stackalloc UserCapData[2];
        nint result = Syscall.Invoke(SyscallNumbers.Capget, (nint)(&header), (nint)data);
        if (result != 0)
        {
            throw KernelException.FromErrno($"capget(pid {pid})", KernelException.LastErrno());
        }
        return new CapabilitySets(
            data[0].Effective | ((ulong)data[1].Effective << 32),
            data[0].Permitted | ((ulong)data[1].Permitted << 32),
            data[0].Inheritable | ((ulong)data[1].Inheritable << 32));
    }
}
