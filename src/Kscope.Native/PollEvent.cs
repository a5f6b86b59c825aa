namespace Kscope.Native;

/// <summary>One source a <see cref="Poller"/> found ready: the token it was added with and the epoll event bits.</summary>
public readonly record struct PollEvent(ulong Token, uint Events)
{
    /// <summary>EPOLLIN: the source has data (a perf ring past its watermark, a ring buffer with records).</summary>
    public bool Readable => (Events & Epoll.In) != 0;

    /// <summary>EPOLLHUP or EPOLLERR: e.g. a per-task perf event whose task (and every inherited child) exited.</summary>
    public bool HungUp => (Events & (Epoll.Hup | Epoll.Err)) != 0;
}
