using static Kscope.Kernel.Bpf.Asm.Register;
using Kscope.Kernel.Bpf;
using Kscope.Kernel.Bpf.Asm;

namespace Kscope.Kernel.Tests.Bpf;

[Trait("Category", "Kernel")]
public class BufferTests
{
    [Fact]
    public async Task RingBuf_Flood_DeliveredPlusLostEqualsProduced()
    {
        Requires.Root();
        using Map ring = Map.Create(new MapSpec { Name = "kscope_rb", Type = MapType.RingBuf, MaxEntries = 16 * 4096 });
        using Map lost = TestPrograms.CounterMap();
        using Map seq = TestPrograms.CounterMap();
        using Program p = Program.Load(new ProgramSpec { Name = "kscope_rbprod", Type = ProgramType.SchedCls, Instructions = TestPrograms.Producer(ring, lost, seq) });
        using var reader = new RingBufReader(ring);

        const uint perRun = 20_000;
        const int runs = 5;
        long delivered = 0;
        var sequences = new HashSet<ulong>();
        using var stop = new CancellationTokenSource();
        Task consumer = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested || reader.Pending > 0)
            {
                reader.Read((cpu, data) =>
                {
                    Assert.Equal(64, data.Length);
                    sequences.Add(BitConverter.ToUInt64(data));
                    delivered++;
                });
                reader.Wait(10);
            }
        });
        for (int i = 0; i < runs; i++)
        {
            p.TestRun(TestPrograms.Packet(), repeat: perRun);
        }
        stop.Cancel();
        reader.Cancel();
        await consumer.WaitAsync(TimeSpan.FromSeconds(30));
        reader.Read((_, _) => delivered++);

        ulong produced = TestPrograms.Read(seq);
        Assert.Equal((ulong)(perRun * runs), produced);
        Assert.Equal(produced, (ulong)delivered + TestPrograms.Read(lost));
        Assert.Equal((ulong)delivered, reader.Delivered);
        Assert.Equal(delivered, sequences.Count); // no duplicates
        Assert.True(delivered > 0);
    }

    [Fact]
    public async Task RingBuf_ReadAllAsync_YieldsRecordsAndStopsOnCancel()
    {
        Requires.Root();
        using Map ring = Map.Create(new MapSpec { Name = "kscope_rb2", Type = MapType.RingBuf, MaxEntries = 4096 });
        using Map lost = TestPrograms.CounterMap();
        using Map seq = TestPrograms.CounterMap();
        using Program p = Program.Load(new ProgramSpec { Name = "kscope_rbprod", Type = ProgramType.SchedCls, Instructions = TestPrograms.Producer(ring, lost, seq) });
        using var reader = new RingBufReader(ring);
        p.TestRun(TestPrograms.Packet(), repeat: 3);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var got = new List<ulong>();
        await foreach (BufferRecord r in reader.ReadAllAsync(cts.Token))
        {
            got.Add(BitConverter.ToUInt64(r.Data));
            if (got.Count == 3)
            {
                break;
            }
        }
        Assert.Equal([0UL, 1UL, 2UL], got);
    }

    [Fact]
    public async Task PerfBuf_Flood_DeliveredPlusLostEqualsProduced()
    {
        Requires.Root();
        using Map events = Map.Create(new MapSpec { Name = "kscope_pb", Type = MapType.PerfEventArray, KeySize = 4, ValueSize = 4, MaxEntries = (uint)PossibleCpus.Count });
        using Map failed = TestPrograms.CounterMap();
        using Map seq = TestPrograms.CounterMap();
        using Program p = Program.Load(new ProgramSpec { Name = "kscope_pbprod", Type = ProgramType.SchedCls, Instructions = TestPrograms.Producer(events, failed, seq) });
        using var reader = new PerfBufReader(events, pagesPerCpu: 4, wakeupEvents: 64);

        long delivered = 0;
        using var stop = new CancellationTokenSource();
        Task consumer = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                reader.Read((cpu, data) =>
                {
                    Assert.Equal(68, data.Length); // PERF_SAMPLE_RAW pads size+4 to 8 bytes
                    delivered++;
                });
                reader.Wait(10);
            }
        });
        const uint perRun = 20_000;
        for (int i = 0; i < 5; i++)
        {
            p.TestRun(TestPrograms.Packet(), repeat: perRun);
        }
        stop.Cancel();
        reader.Cancel();
        await consumer.WaitAsync(TimeSpan.FromSeconds(30));
        reader.Read((_, _) => delivered++);

        ulong produced = TestPrograms.Read(seq);
        Assert.Equal(5UL * perRun, produced);
        // A full ring makes bpf_perf_event_output fail (the program counts it) and the kernel reports the
        // same drops later in PERF_RECORD_LOST records (only once the ring has room again).
        ulong lost = TestPrograms.Read(failed);
        Assert.Equal(produced, (ulong)delivered + lost);
        Assert.True(reader.Lost <= lost, $"PERF_RECORD_LOST says {reader.Lost}, program saw {lost} failures");
        Assert.True(delivered > 0);
    }

    [Fact]
    public void PerfBuf_OverflowOnOneCpu_LostRecordCountsExactlyTheDrops()
    {
        Requires.Root();
        // A raw tracepoint program run with BPF_PROG_TEST_RUN on one chosen CPU (BPF_F_TEST_RUN_ON_CPU, 5.10+)
        // writes to that CPU's ring only; nobody reads while 600 records go into a one-page ring, so most fail.
        using Map events = Map.Create(new MapSpec { Name = "kscope_pblost", Type = MapType.PerfEventArray, KeySize = 4, ValueSize = 4, MaxEntries = (uint)PossibleCpus.Count });
        using Map failed = TestPrograms.CounterMap();
        using Map seq = TestPrograms.CounterMap();
        using Program p = Program.Load(new ProgramSpec { Name = "kscope_pblost", Type = ProgramType.RawTracepoint, Instructions = TestPrograms.Producer(events, failed, seq) });
        using var reader = new PerfBufReader(events, pagesPerCpu: 1, wakeupEvents: 1);
        const int cpu = 0; // the boot CPU, always online
        var context = new byte[8];
        const int flood = 600;
        for (int i = 0; i < flood; i++)
        {
            p.TestRun(context: context, repeat: 0, cpu: cpu);
        }
        long delivered = reader.Read((c, data) => Assert.Equal(cpu, c));
        ulong dropped = TestPrograms.Read(failed);
        Assert.True(dropped > 0 && delivered > 0, $"a one-page ring took {delivered} of {flood} records, {dropped} failed");
        Assert.Equal((ulong)flood, (ulong)delivered + dropped);
        Assert.Equal(0UL, reader.Lost); // the kernel reports drops only once the ring has room again

        // The next record on that CPU is preceded by PERF_RECORD_LOST carrying exactly the drops.
        p.TestRun(context: context, repeat: 0, cpu: cpu);
        delivered += reader.Read((_, _) => { });
        Assert.Equal(dropped, reader.Lost);
        Assert.Equal(dropped, TestPrograms.Read(failed)); // the last one fit
        Assert.Equal((ulong)flood + 1, (ulong)delivered + reader.Lost);
        Assert.Equal((ulong)delivered, reader.Delivered);
    }

    [Fact]
    public void RingBuf_SubmitAndDiscard_DiscardedCountedNotDelivered()
    {
        Requires.Root();
        using Map ring = Map.Create(new MapSpec { Name = "kscope_rbdisc", Type = MapType.RingBuf, MaxEntries = 4096 });
        // Reserve two 16-byte records, submit the first and discard the second.
        var list = new InstructionList();
        list.Emit(
            Asm.LoadMapPtr(R1, ring.Fd.Value), Asm.Mov.Imm(R2, 16), Asm.Mov.Imm(R3, 0), Asm.Call(BpfHelper.RingbufReserve),
            Asm.JEq.Imm(R0, 0, "out"), Asm.Mov.Reg(R6, R0), Asm.StoreImm(R6, 0, 7, Size.DWord),
            Asm.LoadMapPtr(R1, ring.Fd.Value), Asm.Mov.Imm(R2, 16), Asm.Mov.Imm(R3, 0), Asm.Call(BpfHelper.RingbufReserve),
            Asm.JEq.Imm(R0, 0, "submit"), Asm.Mov.Reg(R1, R0), Asm.Mov.Imm(R2, 0), Asm.Call(BpfHelper.RingbufDiscard));
        list.Label("submit").Emit(Asm.Mov.Reg(R1, R6), Asm.Mov.Imm(R2, 0), Asm.Call(BpfHelper.RingbufSubmit));
        list.Label("out").Emit(Asm.Mov.Imm(R0, 0), Asm.Exit());
        using Program p = Program.Load(new ProgramSpec { Name = "kscope_rbdisc", Type = ProgramType.SchedCls, Instructions = list.Link() });
        using var reader = new RingBufReader(ring);
        p.TestRun(TestPrograms.Packet(), repeat: 3);
        var first = new List<ulong>();
        int delivered = reader.Read((_, data) => first.Add(BitConverter.ToUInt64(data)));
        Assert.Equal(3, delivered);
        Assert.Equal([7UL, 7UL, 7UL], first);
        Assert.Equal(3UL, reader.Discarded);
        Assert.Equal(3UL, reader.Delivered);
    }
}
