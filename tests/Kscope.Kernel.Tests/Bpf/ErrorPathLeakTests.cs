using Kscope.Kernel.Bpf;
using Kscope.Kernel.Perf;

namespace Kscope.Kernel.Tests.Bpf;

using Kscope.Kernel.Bpf.Loader;
using Kscope.Native;

/// <summary>
/// Every fd and mapping is released on error paths, counted by kind and without a garbage collection (an
/// object left to its finalizer shows). Real kernel errors are injected at each descriptor an operation opens,
/// in turn, by lowering RLIMIT_NOFILE so that the next open fails with EMFILE.
/// </summary>
[Collection(LeakCollection.Name)]
[Trait("Category", "Kernel")]
public class ErrorPathLeakTests(ITestOutputHelper output)
{
    [Fact]
    public void RingBufReader_EachFdOpenFails_LeavesNothing()
    {
        Requires.Root();
        using Map ring = Map.Create(new MapSpec { Name = "kscope_rbfail", Type = MapType.RingBuf, MaxEntries = 4096 });
        int failures = SweepFdBudget("new RingBufReader", () => new RingBufReader(ring).Dispose());
        Assert.True(failures >= 2, $"{failures} failure points (epoll, eventfd)");
    }

    [Fact]
    public void PerfBufReader_EachFdOpenFails_LeavesNothing()
    {
        Requires.Root();
        using Map events = Map.Create(new MapSpec { Name = "kscope_pbfail", Type = MapType.PerfEventArray, KeySize = 4, ValueSize = 4, MaxEntries = (uint)PossibleCpus.Count });
        int failures = SweepFdBudget("new PerfBufReader", () => new PerfBufReader(events, pagesPerCpu: 1).Dispose());
        Assert.True(failures >= 3, $"{failures} failure points (epoll, eventfd, a perf event per CPU)");
    }

    [Fact]
    public void PerfBufReader_BadRingSizeAfterFirstEvent_LeavesNothing()
    {
        Requires.Root();
        using Map events = Map.Create(new MapSpec { Name = "kscope_pbfail", Type = MapType.PerfEventArray, KeySize = 4, ValueSize = 4, MaxEntries = (uint)PossibleCpus.Count });
        // 3 pages is not a power of two: MapRing throws once the first CPU's event is open.
        KernelObjects.AssertUnchanged("a refused ring size", () => Assert.Throws<ArgumentOutOfRangeException>(() => new PerfBufReader(events, pagesPerCpu: 3)));
    }

    [Fact]
    public void Poller_EachFdOpenFails_LeavesNothing()
    {
        int failures = SweepFdBudget("new Poller", () => new Poller().Dispose());
        Assert.Equal(2, failures); // epoll, eventfd
    }

    [Fact]
    public void Tracepoint_EachFdOpenFails_LeavesNothing()
    {
        Requires.Root();
        using Map counter = TestPrograms.CounterMap();
        using Program p = TestPrograms.LoadCounter(ProgramType.Tracepoint, counter, "kscope_tpfail");
        int failures = SweepFdBudget("Attach.Tracepoint", () => Attach.Tracepoint(p, "syscalls", "sys_enter_getpid").Dispose());
        Assert.True(failures >= 2, $"{failures} failure points (perf_event_open, bpf_link)");
    }

    [Fact]
    public void FeatureProbe_WithNoFdToSpare_IsNotKeptAsAbsent()
    {
        Requires.Root();
        Features.Reset();
        FeatureStatus starved = FeatureStatus.Present;
        Exception? error = KernelObjects.WithFdBudget(0, () => starved = Features.HasProgramType(ProgramType.Tracepoint));
        Assert.Null(error);
        // With no descriptor the probe cannot decide; it must not say the kernel lacks tracepoint programs, nor keep that.
        Assert.Equal(FeatureStatus.Unknown, starved);
        Assert.Equal(FeatureStatus.Present, Features.HasProgramType(ProgramType.Tracepoint));
    }

    [Fact]
    public void FromId_EachFdOpenFails_LeavesNothing()
    {
        Requires.Root();
        using Map counter = TestPrograms.CounterMap();
        using Program p = TestPrograms.LoadCounter(ProgramType.SocketFilter, counter, "kscope_idfail");
        SweepFdBudget("Map.FromId", () => Map.FromId(counter.Id).Dispose());
        SweepFdBudget("Program.FromId", () => Program.FromId(p.Id).Dispose());
    }

    [Fact]
    public void CollectionLoad_EachFdOpenFails_LeavesNothing()
    {
        Requires.Root();
        CollectionSpec spec = CollectionSpec.LoadObject(BpfObjects.Example("hello"));
        int failures = SweepFdBudget("Collection.Load hello.bpf.o", () => Collection.Load(spec).Dispose(), maxFds: 256);
        Assert.True(failures >= 5, $"{failures} failure points (BTF, maps, program)");
    }

    [Fact]
    public void MapFromFd_NotABpfObject_ClosesTheFd()
    {
        Requires.Root();
        KernelObjects.AssertUnchanged("Map.FromFd(eventfd)", () =>
            Assert.Throws<KernelException>(() => Map.FromFd(EventFd.Create())));
    }

    [Fact]
    public void ProgramFromFd_NotABpfObject_ClosesTheFd()
    {
        Requires.Root();
        KernelObjects.AssertUnchanged("Program.FromFd(eventfd)", () =>
            Assert.Throws<KernelException>(() => Program.FromFd(EventFd.Create())));
    }

    [Fact]
    public void MapFromFd_AProgram_IsRefusedAndClosesTheFd()
    {
        Requires.Root();
        using Map counter = TestPrograms.CounterMap();
        using Program p = TestPrograms.LoadCounter(ProgramType.SocketFilter, counter, "kscope_notmap");
        KernelObjects.AssertUnchanged("Map.FromId of a program's fd", () =>
        {
            var e = Assert.Throws<KernelException>(() => Map.FromFd(Program.FromId(p.Id).Fd));
            Assert.Contains("bpf-prog", e.Message, StringComparison.Ordinal);
        });
        KernelObjects.AssertUnchanged("Program.FromFd of a map's fd", () =>
        {
            var e = Assert.Throws<KernelException>(() => Program.FromFd(Map.FromId(counter.Id).Fd));
            Assert.Contains("bpf-map", e.Message, StringComparison.Ordinal);
        });
    }

    [Fact]
    public void AttachPerfEvent_WrongProgramType_ClosesTheEvent()
    {
        Requires.Root();
        using Map counter = TestPrograms.CounterMap();
        using Program p = TestPrograms.LoadCounter(ProgramType.RawTracepoint, counter, "kscope_pefail");
        KernelObjects.AssertUnchanged("Attach.PerfEvent with a raw tracepoint program", () =>
        {
            PerfEvent perf = PerfEvent.OpenCpuClock(99, cpu: 0);
            Assert.Throws<ArgumentException>(() => Attach.PerfEvent(p, perf.Fd));
        });
    }

    [Fact]
    public void Readers_DisposedWhileAnotherThreadReads_ReleaseEverythingOnceItReturns()
    {
        Requires.Root();
        using Map ring = Map.Create(new MapSpec { Name = "kscope_rbrel", Type = MapType.RingBuf, MaxEntries = 4096 });
        using Map events = Map.Create(new MapSpec { Name = "kscope_pbrel", Type = MapType.PerfEventArray, KeySize = 4, ValueSize = 4, MaxEntries = (uint)PossibleCpus.Count });
        KernelObjects.AssertUnchanged("100 readers disposed under a reading thread", () =>
        {
            for (int i = 0; i < 100; i++)
            {
                DisposeUnderReader(i % 2 == 0 ? new RingBufReader(ring) : new PerfBufReader(events, pagesPerCpu: 1));
            }
        });

        static void DisposeUnderReader(BufferReader reader)
        {
            using var reading = new ManualResetEventSlim();
            var consumer = new Thread(() =>
            {
                try
                {
                    while (true)
                    {
                        reader.Read((_, _) => { });
                        reading.Set();
                        reader.Wait(-1);
                    }
                }
                catch (ObjectDisposedException)
                {
                }
            });
            consumer.Start();
            reading.Wait();
            reader.Dispose();
            Assert.True(consumer.Join(TimeSpan.FromSeconds(60)));
        }
    }

    /// <summary>
    /// Runs <paramref name="action"/> with 0, 1, 2… descriptors to spare until it succeeds; each failure must be
    /// the injected EMFILE and leave every kind of kernel object as before. Returns the number of failure points.
    /// </summary>
    private int SweepFdBudget(string what, Action action, int maxFds = 64)
    {
        action(); // warm up: lazily opened runtime fds, cached feature probes
        for (int allowed = 0; allowed <= maxFds; allowed++)
        {
            Exception? error = null;
            KernelObjects.AssertUnchanged($"{what} with {allowed} fds to spare", () => error = KernelObjects.WithFdBudget(allowed, action));
            if (error is null)
            {
                output.WriteLine($"{what}: failed cleanly at each of its first {allowed} descriptor opens, then succeeded");
                return allowed;
            }
            Assert.True(IsEmfile(error), $"{what} with {allowed} fds to spare: expected EMFILE, got {error}");
            output.WriteLine($"{what} with {allowed} fds to spare: {error!.GetType().Name}: {error.Message}");
        }
        Assert.Fail($"{what} did not succeed with {maxFds} fds to spare");
        return -1;

        static bool IsEmfile(Exception? e) => e switch
        {
            null => false,
            KernelException k when k.Errno == Errno.EMFILE => true,
            IOException io when io.HResult == (int)Errno.EMFILE || io.Message.Contains("Too many open files", StringComparison.Ordinal) => true,
            _ => IsEmfile(e.InnerException),
        };
    }
}
