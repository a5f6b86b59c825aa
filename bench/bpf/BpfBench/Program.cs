// kscope eBPF engine benchmarks (issue 4): ring buffer delivery, map lookup cost, object load + attach time.
using System.Diagnostics;
using Kscope.Kernel.Bpf;
using BpfProgram = Kscope.Kernel.Bpf.Program;
using static Kscope.Kernel.Bpf.Asm.Register;
using Kscope.Kernel.Bpf.Asm;
using Kscope.Kernel.Bpf.Loader;

string mode = args.Length > 0 ? args[0] : "all";
if (mode is "all" or "ringbuf") RingBuf();
if (mode is "all" or "storm") Storm(args.Length > 1 ? double.Parse(args[1]) : 5);
if (mode is "all" or "lookup") Lookup();
if (mode is "all" or "load") Load(args.Length > 1 && mode == "load" ? args[1] : "bench/bpf/ten.bpf.o");
return 0;

// 64-byte records from BPF_PROG_TEST_RUN loops (a tight in-kernel producer), read concurrently.
static void RingBuf()
{
    using Map ring = Map.Create(new MapSpec { Name = "bench_rb", Type = MapType.RingBuf, MaxEntries = 1 << 22 });
    using Map lost = Counter();
    using BpfProgram p = BpfProgram.Load(new ProgramSpec { Name = "bench_rb", Type = ProgramType.SchedCls, Instructions = Producer(ring, lost) });
    using var reader = new RingBufReader(ring);
    long delivered = 0;
    var stop = false;
    var consumer = new Thread(() =>
    {
        while (!Volatile.Read(ref stop) || reader.Pending > 0)
        {
            delivered += reader.Read((_, d) => { });
            if (reader.Pending == 0) reader.Wait(1);
        }
    });
    consumer.Start();
    const uint runs = 40, perRun = 100_000;
    var sw = Stopwatch.StartNew();
    var packet = new byte[64];
    for (int i = 0; i < runs; i++) p.TestRun(packet, repeat: perRun);
    Volatile.Write(ref stop, true);
    reader.Cancel();
    consumer.Join();
    sw.Stop();
    ulong produced = runs * perRun;
    ulong dropped = lost.Lookup<uint, ulong>(0) ?? 0;
    Console.WriteLine($"ringbuf: produced {produced}, delivered {delivered}, lost {dropped} ({100.0 * dropped / produced:F2}%), {delivered / sw.Elapsed.TotalSeconds / 1e6:F2} M events/s delivered in {sw.Elapsed.TotalSeconds:F2} s");
}

// sys_enter raw tracepoint -> ringbuf, with a getppid storm in another process: comparable to bpftrace's printf on the same storm.
static void Storm(double seconds)
{
    using Map ring = Map.Create(new MapSpec { Name = "bench_storm", Type = MapType.RingBuf, MaxEntries = 1 << 22 });
    using Map lost = Counter();
    using BpfProgram p = BpfProgram.Load(new ProgramSpec { Name = "bench_storm", Type = ProgramType.RawTracepoint, Instructions = Producer(ring, lost) });
    using var reader = new RingBufReader(ring);
    using Link link = Attach.RawTracepoint(p, "sys_enter");
    long delivered = 0;
    var sw = Stopwatch.StartNew();
    while (sw.Elapsed.TotalSeconds < seconds)
    {
        delivered += reader.Read((_, d) => { });
        if (reader.Pending == 0) reader.Wait(10);
    }
    link.Dispose();
    delivered += reader.Read((_, d) => { });
    ulong dropped = lost.Lookup<uint, ulong>(0) ?? 0;
    Console.WriteLine($"storm: kscope delivered {delivered / sw.Elapsed.TotalSeconds / 1e6:F3} M events/s, lost {dropped} ({100.0 * dropped / Math.Max(1, delivered + (long)dropped):F2}%)");
}

static unsafe void Lookup()
{
    using Map map = Map.Create(new MapSpec { Name = "bench_lookup", Type = MapType.Array, KeySize = 4, ValueSize = 8, MaxEntries = 1024 });
    const int n = 2_000_000;
    double best = double.MaxValue, bestCpu = double.MaxValue;
    Span<byte> key = stackalloc byte[4];
    Span<byte> value = stackalloc byte[8];
    for (int round = 0; round < 5; round++)
    {
        // Wall time and this process's CPU time (user + system): on a loaded machine only the CPU time is comparable.
        TimeSpan cpu0 = Environment.CpuUsage.TotalTime;
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < n; i++)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(key, (uint)(i & 1023));
            map.Lookup(key, value);
        }
        best = Math.Min(best, sw.Elapsed.TotalNanoseconds / n);
        bestCpu = Math.Min(bestCpu, (Environment.CpuUsage.TotalTime - cpu0).TotalNanoseconds / n);
    }
    Console.WriteLine($"lookup: C# Map.Lookup {best:F1} ns/op wall, {bestCpu:F1} ns/op cpu (best of 5 x {n})");
}

static void Load(string path)
{
    // Load (parse, CO-RE, maps, BPF_PROG_LOAD: what bpftool prog loadall does) and attach timed apart; detaching
    // (which waits for an RCU grace period per tracepoint link) is outside both.
    var loads = new List<double>();
    var attaches = new List<double>();
    int programs = 0;
    for (int i = 0; i < 11; i++)
    {
        var sw = Stopwatch.StartNew();
        using Collection c = Collection.Load(CollectionSpec.LoadObject(path));
        double load = sw.Elapsed.TotalMilliseconds;
        programs = c.AttachAll().Count;
        double attach = sw.Elapsed.TotalMilliseconds - load;
        if (i > 0) // the first run warms the JIT and the vmlinux BTF cache
        {
            loads.Add(load);
            attaches.Add(attach);
        }
    }
    loads.Sort();
    attaches.Sort();
    Console.WriteLine($"load: {path}: {programs} programs loaded in {loads[loads.Count / 2]:F1} ms, attached in {attaches[attaches.Count / 2]:F1} ms (medians of {loads.Count}, in process)");
}

static Map Counter() => Map.Create(new MapSpec { Name = "bench_lost", Type = MapType.Array, KeySize = 4, ValueSize = 8, MaxEntries = 1 });

static InstructionList Producer(Map ring, Map lost)
{
    var list = new InstructionList();
    for (short off = -64; off < 0; off += 8) list.Emit(Asm.StoreImm(R10, off, 0, Size.DWord));
    list.Emit(Asm.LoadMapPtr(R1, ring.Fd.Value), Asm.Mov.Reg(R2, R10), Asm.Add.Imm(R2, -64), Asm.Mov.Imm(R3, 64), Asm.Mov.Imm(R4, 0),
        Asm.Call(BpfHelper.RingbufOutput), Asm.JEq.Imm(R0, 0, "out"),
        Asm.StoreImm(R10, -72, 0, Size.Word), Asm.LoadMapPtr(R1, lost.Fd.Value), Asm.Mov.Reg(R2, R10), Asm.Add.Imm(R2, -72),
        Asm.Call(BpfHelper.MapLookupElem), Asm.JEq.Imm(R0, 0, "out"), Asm.Mov.Imm(R1, 1), Asm.Atomic(AtomicOperation.Add, R0, 0, R1, Size.DWord));
    list.Label("out").Emit(Asm.Mov.Imm(R0, 0), Asm.Exit());
    return list.Link();
}
