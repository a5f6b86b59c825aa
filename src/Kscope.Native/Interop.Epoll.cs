using System.Runtime.InteropServices;

namespace Kscope.Native;

internal static partial class Interop
{
    internal static unsafe partial class Libc
    {
        [LibraryImport(LibC, EntryPoint = "epoll_create1", SetLastError = true)]
        internal static partial int EpollCreate1(int flags);

        // event is struct epoll_event: 12 bytes packed on x86_64, 16 aligned elsewhere (EpollEventRaw).
        [LibraryImport(LibC, EntryPoint = "epoll_ctl", SetLastError = true)]
        internal static partial int EpollCtl(int epfd, int op, int fd, void* @event);

        [LibraryImport(LibC, EntryPoint = "epoll_wait", SetLastError = true)]
        internal static partial int EpollWait(int epfd, void* events, int maxEvents, int timeout);

        [LibraryImport(LibC, EntryPoint = "eventfd", SetLastError = true)]
        internal static partial int EventFd(uint initval, int flags);
    }
}
