using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Kscope.Diagnostics.Symbols;
using Kscope.Formats;
using Kscope.Formats.Elf;
using Kscope.Formats.Pprof;
using Kscope.Kernel.Perf;
using Kscope.Native;

namespace Kscope.Diagnostics.Profiling;

/// <summary>
/// CPU sampling with perf_event_open (software cpu-clock at a frequency, kernel and user
/// callchains through frame pointers), one event and ring per CPU, into a symbolized pprof
/// profile: kernel frames from /proc/kallsyms, Go frames from the pclntab (stripped binaries too,
/// inlined frames included), native frames from ELF symbols via /proc/PID/maps (binaries read
/// through /proc/PID/root), JIT frames from /tmp/perf-PID.map (.NET with DOTNET_PerfMapEnabled=1).
/// </summary>
public sealed class CpuSampler
{
    private const ulong SampleType = PerfRecords.SampleIp | PerfRecords.SampleTid | PerfRecords.SampleTime | PerfRecords.SamplePeriod | PerfRecords.SampleCallchain;
    private const uint ProtExec = 4;
    private const int PerfFlagPidCgroup = 1 << 2;
    private const int RingPages = 64;

    private readonly Dictionary<(int Image, CallchainKey Chain), (long Count, long Nanos)> _stacks = [];
    private readonly Dictionary<(int Image, CallchainKey Chain), long> _offCpu = [];

    /// <summary>
    /// Blocked time to add as a second sample type (off_cpu nanoseconds), read once sampling has stopped:
    /// (pid, nanoseconds, kernel ips, user ips). Null: a CPU-only profile.
    /// </summary>
    public Func<IEnumerable<(int Pid, long Nanos, ulong[] Kernel, ulong[] User)>>? OffCpu { get; set; }
    private readonly List<ProcessImage> _images = [];
    private readonly Dictionary<int, int> _imageOf = [];
    private readonly List<(ulong Time, int Seq, object Record)> _batch = [];
    private PerfRecordHandler? _handler;
    private readonly Dictionary<int, PerfMap?> _perfMaps = [];

    /// <summary>Binaries are parsed once per build id or file, whichever processes map them; pass one cache to share it between profiles.</summary>
    public BinaryCache Binaries { get; init; } = new();

    /// <summary>PERF_RECORD_THROTTLE records: the kernel slowed sampling down (interrupts took too long).</summary>
    public ulong Throttled { get; private set; }

    /// <summary>Address spaces seen: one per process, plus one more per exec.</summary>
    public IReadOnlyList<ProcessImage> Images => _images;

    public ulong Samples { get; private set; }

    public ulong Lost { get; private set; }

    /// <summary>
    /// Samples for <paramref name="duration"/> (or until cancelled, until <paramref name="stopWhen"/> says so,
    /// or until every sampled task has exited). <paramref name="started"/> runs once the events are enabled
    /// (a command started stopped is resumed there).
    /// </summary>
    /// <remarks>
    /// The reading loop runs on its own thread and sleeps in epoll_wait: the kernel wakes it only when
    /// a ring is half full (wakeup_watermark), and a timer tick (1 s, 250 ms with a progress line or a
    /// stop condition) drains the rings and reports progress. No thread-pool timers (their workers spin
    /// on wake-up), no work per sample beyond counting the raw callchain: symbolization happens after
    /// sampling stops. The drain methods are jitted fully optimized at first use, so no tiered re-JIT
    /// runs while the target does.
    /// </remarks>
    public Task<Profile> RunAsync(ProfileTarget target, int frequency, TimeSpan duration, Action<TimeSpan, ulong>? progress, Func<bool>? stopWhen, CancellationToken ct, Action? started = null) =>
        Task.Factory.StartNew(() => Run(target, frequency, duration, progress, stopWhen, started, ct), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private Profile Run(ProfileTarget target, int frequency, TimeSpan duration, Action<TimeSpan, ulong>? progress, Func<bool>? stopWhen, Action? started, CancellationToken ct)
    {
        var events = new List<PerfEvent>();
        SafeFd? cgroup = null;
        long startNanos = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;
        var clock = Stopwatch.StartNew();
        try
        {
            int pid = target.Pid ?? -1;
            int flags = 0;
            if (target.CgroupPath is { } path)
            {
                cgroup = Posix.Open(path, OpenFlags.O_RDONLY | OpenFlags.O_CLOEXEC, 0, "a cgroup directory, e.g. /sys/fs/cgroup/unified/system.slice/x.service");
                pid = cgroup.Value;
                flags = PerfFlagPidCgroup;
            }
            foreach (int cpu in OnlineCpus())
            {
                var attr = new PerfEventAttr
                {
                    Type = PerfEvents.TypeSoftware,
                    Config = PerfEvents.SoftwareCpuClock,
                    SampleFreq = (ulong)frequency,
                    SampleType = SampleType,
                    // Side-band records (each lands on the CPU where it happened, so every event asks for
                    // them): MMAP2 for new executable mappings, COMM (exec), FORK/EXIT; sample_id_all puts
                    // the time on them so they are applied in order with the samples.
                    Flags = PerfEventAttrFlags.Freq | PerfEventAttrFlags.Disabled | PerfEventAttrFlags.Watermark |
                            PerfEventAttrFlags.Mmap | PerfEventAttrFlags.Mmap2 | PerfEventAttrFlags.Comm | PerfEventAttrFlags.CommExec |
                            PerfEventAttrFlags.Task | PerfEventAttrFlags.SampleIdAll |
                            (target.Pid is not null ? PerfEventAttrFlags.Inherit : 0),
                    WakeupWatermark = RingPages * 4096 / 2,
                    SampleMaxStack = 127,
                };
                PerfEvent e = PerfEvent.Open(attr, pid, cpu, -1, flags, $"perf_event_open cpu-clock for {target} on cpu {cpu}");
                events.Add(e);
                e.MapRing(RingPages);
            }
            using var epoll = new Epoll();
            using SafeFd wake = EventFd.Create();
            epoll.Add(wake, Epoll.In, ulong.MaxValue);
            for (int i = 0; i < events.Count; i++)
            {
                epoll.Add(events[i].Fd, Epoll.In, (ulong)i);
            }
            using CancellationTokenRegistration registration = ct.Register(() => EventFd.Signal(wake));
            foreach (PerfEvent e in events)
            {
                e.Enable();
            }
            if (target.Pid is int root)
            {
                ImageOf(root); // before it runs on: a command still stopped in its shell, or the live process
            }
            clock.Restart();
            started?.Invoke();
            Loop(events, epoll, clock, duration, progress, stopWhen, target.Pid is not null, ct);
            foreach (PerfEvent e in events)
            {
                e.Disable();
            }
            DrainAll(events);
            foreach (PerfEvent e in events)
            {
                Lost += e.Ring?.Lost ?? 0;
            }
            if (OffCpu is not null)
            {
                foreach ((int p, long nanos, ulong[] kernelIps, ulong[] userIps) in OffCpu())
                {
                    ulong[] chain = [PerfRecords.ContextKernel, .. kernelIps, PerfRecords.ContextUser, .. userIps];
                    CollectionsMarshal.GetValueRefOrAddDefault(_offCpu, (ImageOf(p), new CallchainKey(chain)), out _) += nanos;
                }
            }
        }
        finally
        {
            foreach (PerfEvent e in events)
            {
                e.Dispose();
            }
            cgroup?.Dispose();
        }
        return Build(frequency, startNanos, clock.Elapsed);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Loop(List<PerfEvent> events, Epoll epoll, Stopwatch clock, TimeSpan duration, Action<TimeSpan, ulong>? progress, Func<bool>? stopWhen, bool perTask, CancellationToken ct)
    {
        int tick = progress is null && stopWhen is null ? 1000 : 250;
        Span<EpollEvent> ready = stackalloc EpollEvent[16];
        int open = events.Count;
        TimeSpan lastDrain = TimeSpan.Zero;
        while (!ct.IsCancellationRequested && !(stopWhen?.Invoke() ?? false))
        {
            TimeSpan left = duration - clock.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                break;
            }
            int n = epoll.Wait(ready, (int)Math.Min(tick, Math.Ceiling(left.TotalMilliseconds)));
            bool woken = false;
            for (int i = 0; i < n; i++)
            {
                if (ready[i].Data == ulong.MaxValue)
                {
                    continue; // cancelled: the loop condition sees it
                }
                woken = true;
                PerfEvent e = events[(int)ready[i].Data];
                if ((ready[i].Events & (Epoll.Hup | Epoll.Err)) != 0)
                {
                    // A per-task event hangs up when its task (and every inherited child) is gone.
                    epoll.Remove(e.Fd);
                    open--;
                }
            }
            if (perTask && open == 0)
            {
                break;
            }
            TimeSpan now = clock.Elapsed;
            if (woken || now - lastDrain >= TimeSpan.FromMilliseconds(tick))
            {
                // All rings together: records are then applied in time order across CPUs.
                DrainAll(events);
                lastDrain = now;
                progress?.Invoke(now, Samples);
            }
        }
    }

    private void DrainAll(List<PerfEvent> events)
    {
        foreach (PerfEvent e in events)
        {
            e.Ring!.Read(_handler ??= OnRecord);
        }
        // Each ring is in time order, the rings together are not: an exec on one CPU must come
        // before the new program's samples on another.
        _batch.Sort(static (a, b) => a.Time != b.Time ? a.Time.CompareTo(b.Time) : a.Seq.CompareTo(b.Seq));
        foreach (var (_, _, record) in _batch)
        {
            Apply(record);
        }
        _batch.Clear();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void OnRecord(PerfEventHeader header, ReadOnlySpan<byte> body)
    {
        try
        {
            switch ((PerfRecordType)header.Type)
            {
                case PerfRecordType.Sample:
                    {
                        PerfSample s = PerfRecords.DecodeSample(body, SampleType);
                        _batch.Add((s.Time, _batch.Count, s));
                        break;
                    }
                case PerfRecordType.Mmap2:
                    {
                        PerfMmap2 m = PerfRecords.DecodeMmap2(header.Misc, body, SampleType);
                        if ((m.Prot & ProtExec) != 0)
                        {
                            _batch.Add((m.Time, _batch.Count, m));
                        }
                        break;
                    }
                case PerfRecordType.Comm:
                    {
                        PerfComm c = PerfRecords.DecodeComm(header.Misc, body, SampleType);
                        _batch.Add((c.Time, _batch.Count, c));
                        break;
                    }
                case PerfRecordType.Fork:
                case PerfRecordType.Exit:
                    {
                        PerfTaskRecord t = PerfRecords.DecodeTask((PerfRecordType)header.Type, body);
                        _batch.Add((t.Time, _batch.Count, t));
                        break;
                    }
                case PerfRecordType.Throttle:
                    Throttled++;
                    break;
                default:
                    break; // LOST is counted by the ring
            }
        }
        catch (MalformedDataException)
        {
            // A record the kernel wrote but we cannot read: skip it, keep sampling.
        }
    }

    private void Apply(object record)
    {
        switch (record)
        {
            case PerfSample s:
                {
                    Samples++;
                    int image = s.Pid > 0 ? ImageOf(s.Pid) : -1;
                    var key = (image, new CallchainKey(s.Callchain));
                    ref (long Count, long Nanos) slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_stacks, key, out _);
                    slot = (slot.Count + 1, slot.Nanos + (long)s.Period);
                    break;
                }
            case PerfMmap2 m:
                _images[ImageOf(m.Pid)].Add(new ProcessMaps.Region(m.Address, m.Address + m.Length, m.PageOffset, m.FileName));
                break;
            case PerfComm { IsExec: true } c when c.Pid == c.Tid || !_imageOf.ContainsKey(c.Pid):
                // exec replaced the address space: the MMAP2 records of the new program follow.
                NewImage(new ProcessImage(c.Pid, c.Comm));
                break;
            case PerfComm c when c.Pid == c.Tid:
                _images[ImageOf(c.Pid)].Comm = c.Comm;
                break;
            case PerfTaskRecord { IsNewProcess: true } t when !_imageOf.ContainsKey(t.Pid):
                NewImage(_imageOf.TryGetValue(t.ParentPid, out int parent) ? _images[parent].CopyFor(t.Pid) : ProcessImage.FromProc(t.Pid));
                break;
            default:
                break;
        }
    }

    /// <summary>The current image of <paramref name="pid"/>; a process first seen gets one from /proc.</summary>
    private int ImageOf(int pid) => _imageOf.TryGetValue(pid, out int i) ? i : NewImage(ProcessImage.FromProc(pid));

    private int NewImage(ProcessImage image)
    {
        _images.Add(image);
        return _imageOf[image.Pid] = _images.Count - 1;
    }

    private static IEnumerable<int> OnlineCpus()
    {
        string text;
        try
        {
            text = File.ReadAllText("/sys/devices/system/cpu/online").Trim();
        }
        catch (IOException)
        {
            return Enumerable.Range(0, Environment.ProcessorCount);
        }
        var cpus = new List<int>();
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] r = part.Split('-');
            int a = int.Parse(r[0], System.Globalization.CultureInfo.InvariantCulture);
            int b = r.Length > 1 ? int.Parse(r[1], System.Globalization.CultureInfo.InvariantCulture) : a;
            for (int c = a; c <= b; c++)
            {
                cpus.Add(c);
            }
        }
        return cpus;
    }

    private Profile Build(int frequency, long startNanos, TimeSpan elapsed)
    {
        var profile = new Profile
        {
            TimeNanos = startNanos,
            DurationNanos = (long)elapsed.TotalMilliseconds * 1_000_000,
            PeriodType = new SampleType("cpu", "nanoseconds"),
            Period = 1_000_000_000L / Math.Max(1, frequency),
        };
        profile.SampleTypes.Add(new SampleType("samples", "count"));
        profile.SampleTypes.Add(new SampleType("cpu", "nanoseconds"));
        if (OffCpu is not null)
        {
            profile.SampleTypes.Add(new SampleType("off_cpu", "nanoseconds"));
            profile.DefaultSampleType = "cpu";
        }
        profile.Comments.Add($"kscope profile: perf_event_open cpu-clock at {frequency} Hz");
        var kernel = new Lazy<KernelSymbols>(() => KernelSymbols.LoadOrEmpty());
        var lines = new Dictionary<(BinarySymbolizer, ulong), Line[]>();
        var mappings = new Dictionary<string, Mapping>(StringComparer.Ordinal);
        var functions = new Dictionary<(string, string), Function>();
        var locations = new Dictionary<(int Image, ulong Address), Location>();
        var kernelMapping = new Mapping { File = "[kernel.kallsyms]", HasFunctions = true };

        Function Fn(string name, string file)
        {
            if (!functions.TryGetValue((name, file), out Function? f))
            {
                f = new Function { Name = name, SystemName = name, FileName = file };
                functions[(name, file)] = f;
                profile.Functions.Add(f);
            }
            return f;
        }

        Location Loc(int image, ulong address, bool isKernel, bool leaf)
        {
            if (locations.TryGetValue((isKernel ? -2 : image, address), out Location? l))
            {
                return l;
            }
            int pid = image >= 0 ? _images[image].Pid : 0;
            l = new Location { Address = address };
            ulong lookup = leaf ? address : address - 1; // return addresses point after the call
            if (isKernel)
            {
                if (!profile.Mappings.Contains(kernelMapping))
                {
                    profile.Mappings.Add(kernelMapping);
                }
                l.Mapping = kernelMapping;
                if (kernel.Value.Lookup(lookup) is { } name)
                {
                    l.Lines = [new Line(Fn(name, ""), 0)];
                }
            }
            else if (image >= 0 && _images[image].Find(address) is { } region)
            {
                if (!mappings.TryGetValue(region.Path + "@" + region.Start, out Mapping? m))
                {
                    m = new Mapping { MemoryStart = region.Start, MemoryLimit = region.End, FileOffset = region.Offset, File = region.Path, HasFunctions = true, HasFilenames = true, HasLineNumbers = true, HasInlineFrames = true };
                    mappings[region.Path + "@" + region.Start] = m;
                    profile.Mappings.Add(m);
                }
                l.Mapping = m;
                BinarySymbolizer? sym = Binaries.Get(pid, region.Path);
                if (sym is not null)
                {
                    if (m.BuildId.Length == 0)
                    {
                        m.BuildId = sym.Elf.BuildId ?? "";
                    }
                    ulong fileOffset = lookup - region.Start + region.Offset;
                    if (sym.Elf.TryGetVirtualAddress(fileOffset, out ulong vaddr))
                    {
                        // Symbolized once per (binary, address), whichever process it was sampled in.
                        if (!lines.TryGetValue((sym, vaddr), out Line[]? known))
                        {
                            try
                            {
                                known = sym.Symbolize(vaddr).Select(f => new Line(Fn(f.Function, f.File ?? ""), f.Line)).ToArray();
                            }
                            catch (MalformedDataException)
                            {
                                known = [];
                            }
                            lines[(sym, vaddr)] = known;
                        }
                        l.Lines = known;
                    }
                }
                else if (PerfMapOf(pid)?.Lookup(lookup) is { } jit)
                {
                    l.Lines = [new Line(Fn(jit, ""), 0)];
                }
            }
            else if (PerfMapOf(pid)?.Lookup(lookup) is { } jit)
            {
                l.Lines = [new Line(Fn(jit, ""), 0)];
            }
            locations[(isKernel ? -2 : image, address)] = l;
            profile.Locations.Add(l);
            return l;
        }

        var stack = new List<Location>();
        foreach (var ((image, chain), (count, nanos)) in _stacks)
        {
            AddSample(image, chain, OffCpu is null ? [count, nanos] : [count, nanos, 0]);
        }
        foreach (var ((image, chain), nanos) in _offCpu)
        {
            AddSample(image, chain, [0, 0, nanos]);
        }
        return profile;

        void AddSample(int image, CallchainKey chain, long[] values)
        {
            stack.Clear();
            bool isKernel = false;
            bool leaf = true;
            foreach (ulong ip in chain.Ips)
            {
                if (ip >= PerfRecords.ContextMax)
                {
                    isKernel = ip == PerfRecords.ContextKernel;
                    continue;
                }
                stack.Add(Loc(image, ip, isKernel, leaf));
                leaf = false;
            }
            int pid = image >= 0 ? _images[image].Pid : 0;
            var labels = new List<Label> { new("pid", null, pid) };
            if (((image >= 0 ? _images[image].Comm : null) ?? CommOf(pid)) is { } comm)
            {
                labels.Add(new Label("comm", comm));
            }
            profile.Samples.Add(new Sample { Locations = stack.ToArray(), Values = values, Labels = labels.ToArray() });
        }
    }

    private readonly Dictionary<int, string?> _comms = [];

    private string? CommOf(int pid)
    {
        if (!_comms.TryGetValue(pid, out string? c))
        {
            try
            {
                c = File.ReadAllText($"/proc/{pid}/comm").Trim();
            }
            catch (IOException)
            {
                c = null;
            }
            _comms[pid] = c;
        }
        return c;
    }

    private PerfMap? PerfMapOf(int pid)
    {
        if (!_perfMaps.TryGetValue(pid, out PerfMap? m))
        {
            m = PerfMap.Read(pid);
            _perfMaps[pid] = m;
        }
        return m;
    }

    private readonly struct CallchainKey(ulong[] ips) : IEquatable<CallchainKey>
    {
        private readonly int _hash = Hash(ips);

        public ulong[] Ips { get; } = ips;

        public bool Equals(CallchainKey other) => _hash == other._hash && Ips.AsSpan().SequenceEqual(other.Ips);

        public override bool Equals(object? obj) => obj is CallchainKey k && Equals(k);

        public override int GetHashCode() => _hash;

        private static int Hash(ulong[] ips)
        {
            var h = new HashCode();
            foreach (ulong ip in ips)
            {
                h.Add(ip);
            }
            return h.ToHashCode();
        }
    }
}
