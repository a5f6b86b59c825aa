namespace Kscope.Kernel.Tests.Native;

using Kscope.Native;

[Trait("Category", "Kernel")]
public class PollerTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public void Wait_SourceReadable_ReportsItsToken()
    {
        using var poller = new Poller();
        using SafeFd source = EventFd.Create();
        poller.Add(source, 42);
        EventFd.Signal(source);
        Span<PollEvent> ready = stackalloc PollEvent[4];
        PollResult r = poller.Wait(ready, -1);
        Assert.Equal(new PollResult(1, false), r);
        Assert.Equal(42UL, ready[0].Token);
        Assert.True(ready[0].Readable);
        Assert.False(ready[0].HungUp);
    }

    [Fact]
    public void Wait_NothingReady_TimesOut()
    {
        using var poller = new Poller();
        using SafeFd source = EventFd.Create();
        poller.Add(source, 1);
        Span<PollEvent> ready = stackalloc PollEvent[4];
        Assert.True(poller.Wait(ready, 1).TimedOut);
    }

    [Fact]
    public void Wake_BeforeWait_EndsTheNextWaitOnceThenIsConsumed()
    {
        using var poller = new Poller();
        poller.Wake();
        poller.Wake(); // two wakes before a wait still end one wait: a wake is a flag, not a count
        Span<PollEvent> ready = stackalloc PollEvent[4];
        Assert.Equal(new PollResult(0, true), poller.Wait(ready, -1));
        Assert.True(poller.Wait(ready, 1).TimedOut);
    }

    [Fact]
    public void Wake_FromAnotherThread_EndsAnInfiniteWait()
    {
        using var poller = new Poller();
        PollResult result = default;
        var waiter = new Thread(() => result = poller.Wait(new PollEvent[4], -1));
        waiter.Start();
        Thread.Sleep(10);
        poller.Wake();
        Assert.True(waiter.Join(Deadline), "Wake did not end the wait");
        Assert.True(result.Woken);
    }

    [Fact]
    public void WakeOn_TokenCancelled_EndsTheWait()
    {
        using var poller = new Poller();
        using var cts = new CancellationTokenSource();
        using CancellationTokenRegistration registration = poller.WakeOn(cts.Token);
        cts.CancelAfter(10);
        Assert.True(poller.Wait(new PollEvent[1], -1).Woken);
    }

    [Fact]
    public void Add_WakeToken_IsRefused()
    {
        using var poller = new Poller();
        using SafeFd source = EventFd.Create();
        Assert.Throws<ArgumentOutOfRangeException>(() => poller.Add(source, ulong.MaxValue));
    }

    [Fact]
    public void Remove_Source_IsNoLongerReported()
    {
        using var poller = new Poller();
        using SafeFd source = EventFd.Create();
        poller.Add(source, 5);
        EventFd.Signal(source);
        poller.Remove(source);
        Assert.True(poller.Wait(new PollEvent[4], 1).TimedOut);
    }

    [Fact]
    public void Wait_MoreReadyThanRoom_ReportsWhatFitsAndTheRestNextTime()
    {
        using var poller = new Poller();
        var sources = Enumerable.Range(0, 5).Select(_ => EventFd.Create()).ToArray();
        try
        {
            for (int i = 0; i < sources.Length; i++)
            {
                poller.Add(sources[i], (ulong)i);
                EventFd.Signal(sources[i]);
            }
            var ready = new PollEvent[2];
            Assert.Equal(2, poller.Wait(ready, -1).Count);
            var seen = new HashSet<ulong>(ready.Select(r => r.Token));
            foreach (PollEvent r in ready)
            {
                EventFd.Consume(sources[r.Token]);
            }
            while (seen.Count < sources.Length)
            {
                int n = poller.Wait(ready, -1).Count;
                for (int i = 0; i < n; i++)
                {
                    seen.Add(ready[i].Token);
                    EventFd.Consume(sources[ready[i].Token]);
                }
            }
            Assert.Equal(new ulong[] { 0, 1, 2, 3, 4 }, seen.Order());
        }
        finally
        {
            foreach (SafeFd s in sources)
            {
                s.Dispose();
            }
        }
    }

    [Fact]
    public void Dispose_WhileAnotherThreadWaitsForever_WakesItAndLaterWaitsThrow()
    {
        // 1000 rounds: the wait may be entered before, during or after Dispose; it must never hang or touch a closed fd.
        var random = new Random(14);
        int woken = 0, refused = 0;
        for (int round = 0; round < 1000; round++)
        {
            var poller = new Poller();
            Exception? error = null;
            bool wasWoken = false;
            using var started = new ManualResetEventSlim();
            var waiter = new Thread(() =>
            {
                started.Set();
                try
                {
                    wasWoken = poller.Wait(new PollEvent[4], -1).Woken;
                    poller.Wait(new PollEvent[4], -1); // after Dispose: must throw, not block
                }
                catch (Exception e)
                {
                    error = e;
                }
            });
            waiter.Start();
            started.Wait();
            Thread.SpinWait(random.Next(0, 20_000));
            poller.Dispose();
            Assert.True(waiter.Join(Deadline), $"round {round}: a waiter still blocked after Dispose");
            Assert.IsType<ObjectDisposedException>(error);
            if (wasWoken)
            {
                woken++;
            }
            else
            {
                refused++;
            }
        }
        // Both orders happened (the wait was woken by Dispose, or it started after and was refused).
        Assert.True(woken > 0, $"woken {woken}, refused {refused}");
    }

    [Fact]
    public void Wake_AfterDispose_IsANoOp()
    {
        var poller = new Poller();
        poller.Dispose();
        poller.Wake();
        poller.Dispose();
        Assert.Throws<ObjectDisposedException>(() => poller.Wait(new PollEvent[1], 0));
    }
}
