using System.Runtime.InteropServices;

namespace Kscope.Native;

// struct epoll_event, include/uapi/linux/eventpoll.h. __attribute__((packed)) on x86_64 only
// (EPOLL_PACKED), so 12 bytes there; arm64 uses natural alignment (16 bytes) — Epoll converts.
[StructLayout(LayoutKind.Sequential, Pack = 4)]
[KernelStruct("epoll_event")]
public struct EpollEvent
{
    /// <summary>EPOLLIN (1), EPOLLOUT (4), EPOLLERR (8), EPOLLHUP (0x10)…</summary>
    public uint Events;

    /// <summary>The user's cookie given at registration.</summary>
    public ulong Data;
}
