namespace Kscope.Native;

/// <summary>
/// The one wait loop primitive of kscope's ring readers (perf buffer, BPF ring buffer, CPU sampler): an
/// epoll set of sources, each with a caller's token, plus an eventfd that <see cref="Wake"/> signals to end
/// a wait early (cancellation). The usual loop is: drain every source; if nothing was there,
/// <see cref="Wait"/>; stop when woken or cancelled.
/// </summary>
/// <remarks>
/// One thread waits at a time. Any thread may call <see cref="Wake"/>, <see cref="Add"/>,
/// <see cref="Remove"/> or <see cref="Dispose"/>, also while the waiter sleeps: Dispose wakes it, and the
/// epoll and eventfd descriptors are closed only once it has returned (a wait holds a SafeHandle reference
/// on both, so neither number can be closed and reused under the blocked epoll_wait). A wait that starts
/// after Dispose throws <see cref="ObjectDisposedException"/>. A wake is consumed by the wait that sees it;
/// one that arrives while nobody waits ends the next wait at once (so a cancellation is never lost).
/// </remarks>
public sealed class Poller : IDisposable
{
    /// <summary>The most events one <see cref="Wait"/> reports (epoll_wait's batch).</summary>
    public const int MaxEventsPerWait = 63;

    private const ulong WakeToken = ulong.MaxValue;

    private readonly Epoll _epoll;
    private readonly SafeFd _wake;
    private int _disposed;

    public Poller()
    {
        _epoll = new Epoll();
        SafeFd? wake = null;
        try
        {
            wake = EventFd.Create();
            _epoll.Add(wake, Epoll.In, WakeToken);
        }
        catch
        {
            wake?.Dispose();
            _epoll.Dispose();
            throw;
        }
        _wake = wake;
    }

    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>Reports <paramref name="source"/> when readable or hung up, as <paramref name="token"/> (any value but <see cref="ulong.MaxValue"/>). The caller keeps owning the fd.</summary>
    public void Add(SafeFd source, ulong token)
    {
        ArgumentOutOfRangeException.ThrowIfEqual(token, WakeToken);
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        _epoll.Add(source, Epoll.In, token);
    }

    /// <summary>Stops reporting <paramref name="source"/> (e.g. a perf event that hung up).</summary>
    public void Remove(SafeFd source)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        _epoll.Remove(source);
    }

    /// <summary>
    /// Blocks until a source is ready, <paramref name="timeoutMilliseconds"/> pass (-1: forever) or a
    /// <see cref="Wake"/>; fills <paramref name="ready"/> with the ready sources (never the wake itself).
    /// </summary>
    public PollResult Wait(Span<PollEvent> ready, int timeoutMilliseconds)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        bool added = false;
        try
        {
            // The wake fd stays open (and registered) for as long as the wait lasts, or a Dispose racing this wait
            // could close it between its signal and the wait's harvest: the wake would be lost and the wait hang.
            _wake.DangerousAddRef(ref added);
            // Dispose sets the flag before it signals: seen here, or its signal will end the wait below.
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            Span<EpollEvent> events = stackalloc EpollEvent[Math.Clamp(ready.Length + 1, 1, MaxEventsPerWait + 1)];
            int n = _epoll.Wait(events, timeoutMilliseconds);
            int count = 0;
            bool woken = false;
            for (int i = 0; i < n; i++)
            {
                if (events[i].Data == WakeToken)
                {
                    woken = true;
                    EventFd.Consume(_wake);
                }
                else if (count < ready.Length)
                {
                    ready[count++] = new PollEvent(events[i].Data, events[i].Events);
                }
            }
            return new PollResult(count, woken);
        }
        finally
        {
            if (added)
            {
                _wake.DangerousRelease();
            }
        }
    }

    /// <summary>Ends the current <see cref="Wait"/> (or the next one, when nobody waits). From any thread; a no-op once disposed.</summary>
    public void Wake()
    {
        try
        {
            EventFd.Signal(_wake);
        }
        catch (ObjectDisposedException)
        {
            // Disposed meanwhile: nothing is left to wake (a cancellation callback may still fire late).
        }
    }

    /// <summary>Wakes the poller when <paramref name="cancellationToken"/> is cancelled; dispose the registration when done.</summary>
    public CancellationTokenRegistration WakeOn(CancellationToken cancellationToken) =>
        cancellationToken.Register(static state => ((Poller)state!).Wake(), this);

    /// <summary>Wakes a waiting thread and closes both descriptors once it has returned. Safe from any thread, more than once.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        Wake();
        _epoll.Dispose();
        _wake.Dispose();
    }
}
