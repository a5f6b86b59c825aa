using System.Runtime.InteropServices;

namespace Kscope.Native;

internal static partial class Interop
{
    internal static partial class Libc
    {
        // ioctl(fd, KVM_RUN, 0) for the vCPU run loop, the one ioctl kscope makes per guest exit. Imported WITHOUT
        // SetLastError: that option adds errno = 0 before the call and a copy into the runtime's last-error slot
        // after it, two calls per exit that only a function without a failure return value needs. ioctl returns
        // -1 on failure, so the caller reads errno (Marshal.GetLastSystemError) on the very next line when, and
        // only when, it got -1: the same point at which SetLastError's generated code reads it (after the return
        // transition; the runtime preserves errno across a GC suspension there), so EINTR and EAGAIN are exact.
        [LibraryImport(LibC, EntryPoint = "ioctl")]
        internal static partial int IoctlRun(int fd, nuint request, nint argument);
    }
}
