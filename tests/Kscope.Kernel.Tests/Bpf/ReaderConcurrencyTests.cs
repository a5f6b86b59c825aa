using System.Buffers.Binary;
using Kscope.Kernel.Bpf;

namespace Kscope.Kernel.Tests.Bpf;

/// <summary>
/// A reader disposed by one thread while another reads or waits (a gadget stopping while its producer thread
/// drains the ring): the mappings must stay mapped until the read returns, a blocked wait must wake, and
/// later calls must throw ObjectDisposedException. A use after munmap would crash the test process.
/// </summary>
[Trait("Category", "Kernel")]
public class ReaderConcurrencyTests(ITestOutputHelper output)
{
    private const int Rounds = 1000;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public void RingBufReader_DisposedWhileHandlerRuns_RecordStaysMappedUntilReadReturns()
    {
        Requires.Root();
        using Map ring = Map.Create(new MapSpec { Name = "kscope_rbrace", Type = MapType.RingBuf, MaxEntries = 4096 });
        using Producer producer = new(ring);
        producer.Run(4);
        AssertDisposeInsideHandlerIsSafe(new RingBufReader(ring), 4);
    }

    [Fact]
    public void PerfBufReader_DisposedWhileHandlerRuns_RecordStaysMappedUntilReadReturns()
    {
        Requires.Root();
        using Map events = Map.Create(new MapSpec { Name = "kscope_pbrace", Type = MapType.PerfEventArray, KeySize = 4, ValueSize = 4, MaxEntries = (uint)PossibleCpus.Count });
        using Producer producer = new(events);
        var reader = new PerfBufReader(events, pagesPerCpu: 1);
        producer.Run(4);
        AssertDisposeInsideHandlerIsSafe(reader, 4);
    }

    [Fact]
    public void RingBufReader_DisposeRacingReadAndWait_1000Rounds_NeverFaultsOrHangs()
    {
        Requires.Root();
        using Map ring = Map.Create(new MapSpec { Name = "kscope_rbrace", Type = MapType.RingBuf, MaxEntries = 4096 });
        using Producer producer = new(ring);
        Race(() => new RingBufReader(ring), producer);
    }

    [Fact]
    public void PerfBufReader_DisposeRacingReadAndWait_1000Rounds_NeverFaultsOrHangs()
    {
        Requires.Root();
        using Map events = Map.Create(new MapSpec { Name = "kscope_pbrace", Type = MapType.PerfEventArray, KeySize = 4, ValueSize = 4, MaxEntries = (uint)PossibleCpus.Count });
        using Producer producer = new(events);
        Race(() => new PerfBufReader(events, pagesPerCpu: 1), producer);
    }

    [Fact]
    public void RingBufReader_AfterDispose_EveryAccessThrowsObjectDisposed()
    {
        Requires.Root();
        using Map ring = Map.Create(new MapSpec { Name = "kscope_rbdone", Type = MapType.RingBuf, MaxEntries = 4096 });
        var reader = new RingBufReader(ring);
        reader.Dispose();
        reader.Dispose();
        Assert.Throws<ObjectDisposedException>(() => reader.Read((_, _) => { }));
        Assert.Throws<ObjectDisposedException>(() => reader.Pending);
        Assert.Throws<ObjectDisposedException>(() => reader.Wait(0));
        reader.Cancel(); // a late cancellation callback is harmless
    }

    [Fact]
    public void PerfBufReader_AfterDispose_EveryAccessThrowsObjectDisposed()
    {
        Requires.Root();
        using Map events = Map.Create(new MapSpec { Name = "kscope_pbdone", Type = MapType.PerfEventArray, KeySize = 4, ValueSize = 4, MaxEntries = (uint)PossibleCpus.Count });
        var reader = new PerfBufReader(events, pagesPerCpu: 1);
        reader.Dispose();
        reader.Dispose();
        Assert.Throws<ObjectDisposedException>(() => reader.Read((_, _) => { }));
        Assert.Throws<ObjectDisposedException>(() => reader.HasData);
        Assert.Throws<ObjectDisposedException>(() => reader.Wait(0));
        reader.Cancel();
    }

    /// <summary>
    /// The reader thread stops inside the handler of the first record; Dispose runs to completion; then the
    /// handler reads every byte of that record and of the others. Without references held by Read, Dispose would
    /// have unmapped the ring and those reads would fault.
    /// </summary>
    private static void AssertDisposeInsideHandlerIsSafe(BufferReader reader, int records)
    {
        using var inHandler = new ManualResetEventSlim();
        using var disposed = new ManualResetEventSlim();
        var sequences = new List<ulong>();
        Exception? afterDispose = null;
        Exception? failure = null;
        var consumer = new Thread(() =>
        {
            try
            {
                reader.Read((_, data) =>
                {
                    if (sequences.Count == 0)
                    {
                        inHandler.Set();
                        disposed.Wait();
                    }
                    byte[] copy = data.ToArray(); // every byte, after Dispose returned
                    sequences.Add(BinaryPrimitives.ReadUInt64LittleEndian(copy));
                });
                try
                {
                    reader.Read((_, _) => { });
                }
                catch (ObjectDisposedException e)
                {
                    afterDispose = e;
                }
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        consumer.Start();
        Assert.True(inHandler.Wait(Deadline), "the reader thread never reached a record");
        reader.Dispose();
        disposed.Set();
        Assert.True(consumer.Join(Deadline), "the reader thread did not finish");
        Assert.Null(failure);
        Assert.Equal(records, sequences.Count);
        Assert.Equal(Enumerable.Range((int)sequences[0], records).Select(i => (ulong)i), sequences);
        Assert.IsType<ObjectDisposedException>(afterDispose);
    }

    /// <summary>
    /// Each round: records are waiting, a consumer thread drains and then waits forever, and the test thread
    /// disposes the reader at once, after a random spin, or once the consumer is about to wait. The consumer must
    /// end (woken, then ObjectDisposedException) without faulting.
    /// </summary>
    private void Race(Func<BufferReader> open, Producer producer)
    {
        var random = new Random(13);
        int woken = 0, insideRead = 0, beforeRead = 0;
        for (int round = 0; round < Rounds; round++)
        {
            BufferReader reader = open();
            producer.Run(8); // after opening: a perf buffer's events must exist to take records
            int phase = 0; // 1 reading, 2 about to wait
            bool wasWoken = false;
            Exception? end = null;
            using var started = new ManualResetEventSlim();
            var consumer = new Thread(() =>
            {
                started.Set();
                try
                {
                    while (true)
                    {
                        Volatile.Write(ref phase, 1);
                        reader.Read((_, data) =>
                        {
                            ulong sum = 0;
                            foreach (byte b in data)
                            {
                                sum += b;
                            }
                            GC.KeepAlive(sum);
                        });
                        Volatile.Write(ref phase, 2);
                        if (!reader.Wait(-1))
                        {
                            wasWoken = true;
                        }
                    }
                }
                catch (Exception e)
                {
                    end = e;
                }
            });
            consumer.Start();
            started.Wait();
            switch (round % 3)
            {
                case 1:
                    Thread.SpinWait(random.Next(0, 20_000));
                    break;
                case 2:
                    SpinWait.SpinUntil(() => Volatile.Read(ref phase) == 2, Deadline);
                    Thread.Sleep(1);
                    break;
            }
            int at = Volatile.Read(ref phase);
            reader.Dispose();
            Assert.True(consumer.Join(Deadline), $"round {round}: the consumer still blocked after Dispose");
            Assert.IsType<ObjectDisposedException>(end);
            woken += wasWoken ? 1 : 0;
            insideRead += at == 1 ? 1 : 0;
            beforeRead += at == 0 ? 1 : 0;
        }
        output.WriteLine($"{Rounds} rounds: disposed before the first read {beforeRead}, while reading {insideRead}, a waiting consumer woken {woken}");
        Assert.True(woken > 0, "no round disposed a waiting consumer");
    }

    /// <summary>A SchedCls program writing 64-byte records (sequence first) to a ring buffer or perf event array, run by BPF_PROG_TEST_RUN.</summary>
    private sealed class Producer : IDisposable
    {
        private readonly Map _lost = TestPrograms.CounterMap();
        private readonly Map _seq = TestPrograms.CounterMap();
        private readonly Program _program;

        public Producer(Map output)
        {
            _program = Program.Load(new ProgramSpec { Name = "kscope_race", Type = ProgramType.SchedCls, Instructions = TestPrograms.Producer(output, _lost, _seq) });
        }

        public void Run(uint records) => _program.TestRun(TestPrograms.Packet(), repeat: records);

        public void Dispose()
        {
            _program.Dispose();
            _seq.Dispose();
            _lost.Dispose();
        }
    }
}
