using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Kscope.Diagnostics.Symbols;
using Kscope.Formats;
using Kscope.Formats.Elf;
using Kscope.Formats.Pprof;
using Kscope.Kernel.Perf;
using Kscope.Native;
using Kscope.Native.Perf;

namespace Kscope.Diagnostics.Profiling;

/// <summary>
/// CPU sampling with perf_event_open (software cpu-clock at a frequency, kernel and user
/// callchains through frame pointers; with a pid, one event per thread and CPU into one ring per CPU) into a
/// symbolized pprof profile: kernel frames from /proc/kallsyms, Go frames from the pclntab (stripped binaries too,
/// inlined frames included), native frames from ELF symbols via /proc/PID/maps (binaries read
/// through /proc/PID/root), JIT frames from /tmp/perf-PID.map (.NET with DOTNET_PerfMapEnabled=1).
/// </summary>
public sealed class CpuSampler
{
    private const ulong SampleType = PerfRecords.SampleIp | PerfRecords.SampleTid | PerfRecords.SampleTime | PerfRecords.SampleId | PerfRecords.SamplePeriod | PerfRecords.SampleCallchain;
    private const uint ProtExec = 4;
    private const int PerfFlagPidCgroup = 1 << 2;
    private const int RingPages = 64;
    private const int ClockMonotonic = 1;
    private const ulong WatchKey = 1UL << 32;

    /// <summary>How much older than the start of a drain a record must be to be applied (see <see cref="DrainAll"/>).</summary>
    private const ulong HoldBackNanos = 50_000_000;

    private readonly Dictionary<(int Image, CallchainKey Chain), (long Count, long Nanos)> _stacks = [];
    private readonly Dictionary<(int Image, CallchainKey Chain), long> _offCpu = [];

    /// <summary>
    /// Blocked time to add as a second sample type (off_cpu nanoseconds), read once sampling has stopped:
    /// (pid, nanoseconds, kernel ips, user ips). Null: a CPU-only profile.
    /// </summary>
    public Func<IEnumerable<(int Pid, long Nanos, ulong[] Kernel, ulong[] User)>>? OffCpu { get; set; }
    private readonly List<ProcessImage> _images = [];
    private readonly Dictionary<int, int> _imageOf = [];
    private readonly List<(ulong Time, long Seq, object Record)> _batch = [];
    private long _seq;
    private readonly List<PerfEvent> _rings = [];
    private readonly List<PerfEvent?> _watched = [];
    private readonly HashSet<int> _forked = [];
    private readonly Dictionary<int, long> _threads = [];
    private readonly Dictionary<int, long> _threadNanos = [];
    private PerfTaskEvents? _tasks;
    private bool _listingChanging;
    private PerfRecordHandler? _handler;

    /// <summary>Binaries are parsed once per build id or file, whichever processes map them; pass one cache to share it between profiles.</summary>
    public BinaryCache Binaries { get; init; } = new();

    /// <summary>PERF_RECORD_THROTTLE records: the kernel slowed sampling down (interrupts took too long).</summary>
    public ulong Throttled { get; private set; }

    /// <summary>Address spaces seen: one per process, plus one more per exec.</summary>
    public IReadOnlyList<ProcessImage> Images => _images;

    public ulong Samples { get; private set; }

    public ulong Lost { get; private set; }

    /// <summary>Samples per thread id: with --pid or a command, every thread of the process and what it created.</summary>
    public IReadOnlyDictionary<int, long> SamplesByThread => _threads;

    /// <summary>CPU time each thread's samples stand for: the sum of their periods (cpu-clock ns; frequency mode varies it).</summary>
    public IReadOnlyDictionary<int, long> CpuNanosByThread => _threadNanos;

    /// <summary>Threads that got events of their own when sampling began (the others inherited them).</summary>
    public int ThreadsOpened { get; private set; }

    /// <summary>Listings of /proc/PID/task that found threads without events (created while the events were being opened).</summary>
    public int Rescans { get; private set; }

    /// <summary>How long after the token was cancelled sampling stopped (the loop ended); null when not cancelled.</summary>
    public TimeSpan? StopLatency { get; private set; }

    /// <summary>Bytes of records read from the rings after the token was cancelled (at most what the rings hold, twice: the drain under way and the last one).</summary>
    public ulong BytesReadAfterStop => _stopAtBytes is ulong at ? _bytesRead - at : 0;

    /// <summary>The data bytes of every ring together.</summary>
    public ulong RingBytes { get; private set; }

    /// <summary>Samples taken before the window began or after the stop was asked for (not in the profile).</summary>
    public ulong OutsideWindow { get; private set; }

    private ulong _windowStart;
    private ulong _windowEnd = ulong.MaxValue;
    private ulong _bytesRead;
    private ulong? _stopAtBytes;
    private long _stopAtTicks;

    /// <summary>Samples dropped because a thread had both inherited events and events a rescan opened (counted once).</summary>
    public ulong Duplicates { get; private set; }

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

    /// <summary>The sampling event: cpu-clock at <paramref name="frequency"/> Hz with callchains and the side-band records the images need.</summary>
    private static PerfEventAttr SamplingAttr(int frequency, bool inherit, bool disabled) => new()
    {
        Type = PerfEvents.TypeSoftware,
        Config = PerfEvents.SoftwareCpuClock,
        SampleFreq = (ulong)frequency,
        SampleType = SampleType,
        // Side-band records (each lands on the CPU where it happened, so every event asks for them): MMAP2 for
        // new executable mappings, COMM (exec), FORK/EXIT; sample_id_all puts the time (CLOCK_MONOTONIC, the
        // clock of the hold-back in DrainAll and of the BPF gadgets) on them so they are applied in order with
        // the samples.
        Flags = PerfEventAttrFlags.Freq | PerfEventAttrFlags.Watermark | PerfEventAttrFlags.UseClockid |
                PerfEventAttrFlags.Mmap | PerfEventAttrFlags.Mmap2 | PerfEventAttrFlags.Comm | PerfEventAttrFlags.CommExec |
                PerfEventAttrFlags.Task | PerfEventAttrFlags.SampleIdAll |
                (inherit ? PerfEventAttrFlags.Inherit : 0) | (disabled ? PerfEventAttrFlags.Disabled : 0),
        Clockid = ClockMonotonic,
        WakeupWatermark = RingPages * 4096 / 2,
        SampleMaxStack = 127,
    };

    private Profile Run(ProfileTarget target, int frequency, TimeSpan duration, Action<TimeSpan, ulong>? progress, Func<bool>? stopWhen, Action? started, CancellationToken ct)
    {
        var events = new List<PerfEvent>(); // per-CPU events (cgroup, all): each owns its ring
        PerfTaskEvents? tasks = null;       // --pid / COMMAND: per-thread events writing into per-CPU rings
        SafeFd? cgroup = null;
        long startNanos = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;
        var clock = Stopwatch.StartNew();
        try
        {
            int[] cpus = [.. OnlineCpus()];
            using var poller = new Poller();
            using CancellationTokenRegistration registration = ct.Register(() =>
            {
                _stopAtTicks = Stopwatch.GetTimestamp();
                _stopAtBytes = Volatile.Read(ref _bytesRead);
                poller.Wake();
            });
            if (target.Pid is int root)
            {
                ImageOf(root); // before it runs on: a command still stopped in its shell, or the live process
                // Every thread that exists now gets events of its own (enabled at once), every thread or child created
                // later inherits them; each event is watched for hang-up (its thread and all it created have exited).
                tasks = PerfTaskEvents.Open(root, SamplingAttr(frequency, inherit: true, disabled: false), cpus, RingPages, e => Watch(poller, e));
                _tasks = tasks;
                _rings.AddRange(tasks.Rings);
                // Threads created while the first listing was being opened: list again until none lacks events.
                // Drain first, so that a thread whose FORK record shows it inherited events is not opened twice.
                _listingChanging = true;
                for (int round = 0; round < 64 && _listingChanging; round++)
                {
                    ReadRings();
                    _listingChanging = tasks.Rescan(e => Watch(poller, e), _forked.Contains) > 0;
                }
            }
            else
            {
                int pid = -1;
                int flags = 0;
                if (target.CgroupPath is { } path)
                {
                    cgroup = Posix.Open(path, OpenFlags.O_RDONLY | OpenFlags.O_CLOEXEC, 0, "a cgroup directory, e.g. /sys/fs/cgroup/unified/system.slice/x.service");
                    pid = cgroup.Value;
                    flags = PerfFlagPidCgroup;
                }
                foreach (int cpu in cpus)
                {
                    PerfEvent e = PerfEvent.Open(SamplingAttr(frequency, inherit: false, disabled: true), pid, cpu, -1, flags, $"perf_event_open cpu-clock for {target} on cpu {cpu}");
                    events.Add(e);
                    e.MapRing(RingPages);
                }
                _rings.AddRange(events);
                foreach (PerfEvent e in events)
                {
                    e.Enable();
                }
            }
            for (int i = 0; i < _rings.Count; i++)
            {
                poller.Add(_rings[i].Fd, (ulong)i);
            }
            foreach (PerfEvent e in _rings)
            {
                RingBytes += e.Ring!.DataSize;
            }
            clock.Restart();
            _windowStart = MonotonicNanos();
            _windowEnd = _windowStart + (ulong)Math.Min(duration.Ticks, TimeSpan.FromDays(3650).Ticks) * 100;
            started?.Invoke();
            Loop(poller, clock, duration, progress, stopWhen, ct);
            if (ct.IsCancellationRequested)
            {
                StopLatency = Stopwatch.GetElapsedTime(_stopAtTicks);
            }
            foreach (PerfEvent e in tasks?.Events ?? events)
            {
                e.Disable();
            }
            DrainAll(final: true);
            foreach (PerfEvent e in _rings)
            {
                Lost += e.Ring?.Lost ?? 0;
            }
            if (tasks is not null)
            {
                ThreadsOpened = tasks.ThreadsOpened;
                Rescans = tasks.Rescans;
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
            tasks?.Dispose();
            foreach (PerfEvent e in events)
            {
                e.Dispose();
            }
            cgroup?.Dispose();
            _rings.Clear();
            _watched.Clear();
            _tasks = null;
        }
        return Build(frequency, startNanos, clock.Elapsed);
    }

    /// <summary>
    /// Waits for ring wake-ups (or the tick) and drains, until the duration ends, the token is cancelled,
    /// <paramref name="stopWhen"/> says so, or (per-thread events) every sampled task has exited. The token and
    /// the duration are checked after every wait and every drain, and a drain reads at most what the rings held
    /// when it started, so a flood of records cannot hold the stop back.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Loop(Poller poller, Stopwatch clock, TimeSpan duration, Action<TimeSpan, ulong>? progress, Func<bool>? stopWhen, CancellationToken ct)
    {
        int tick = progress is null && stopWhen is null ? 1000 : 250;
        Span<PollEvent> ready = stackalloc PollEvent[Poller.MaxEventsPerWait];
        TimeSpan lastDrain = TimeSpan.Zero;
        while (true)
        {
            // The profile covers exactly the window asked for: samples after the moment the stop was asked for (or
            // after the duration) are dropped, however late this thread gets to see it on a loaded machine.
            if (ct.IsCancellationRequested)
            {
                _windowEnd = Math.Min(_windowEnd, (ulong)(_stopAtTicks * (1_000_000_000.0 / Stopwatch.Frequency)));
                break;
            }
            if (stopWhen?.Invoke() ?? false)
            {
                _windowEnd = Math.Min(_windowEnd, MonotonicNanos());
                break;
            }
            TimeSpan left = duration - clock.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                break;
            }
            // A wake (the token was cancelled) ends the wait early; the loop's first check sees it.
            PollResult result = poller.Wait(ready, (int)Math.Min(tick, Math.Ceiling(left.TotalMilliseconds)));
            bool woken = false;
            for (int i = 0; i < result.Count; i++)
            {
                ulong key = ready[i].Token;
                woken |= ready[i].Readable || key < WatchKey;
                if (key >= WatchKey && ready[i].HungUp && _watched[(int)(key - WatchKey)] is { } hung)
                {
                    // A thread's event hangs up when its thread (and every task that inherited from it) is gone:
                    // its records are in the shared ring already, the fd can go.
                    poller.Remove(hung.Fd);
                    _watched[(int)(key - WatchKey)] = null;
                    _tasks!.Close(hung);
                }
            }
            if (_tasks is { OpenEvents: 0 })
            {
                break;
            }
            TimeSpan now = clock.Elapsed;
            if (woken || now - lastDrain >= TimeSpan.FromMilliseconds(tick))
            {
                // All rings together: records are then applied in time order across CPUs.
                DrainAll(final: false);
                lastDrain = now;
                if (_listingChanging)
                {
                    // 64 listings at start still found new threads (a process creating them faster than we open):
                    // keep listing at each drain until one finds none.
                    _listingChanging = _tasks!.Rescan(e => Watch(poller, e), _forked.Contains) > 0;
                }
                progress?.Invoke(now, Samples);
            }
        }
    }

    /// <summary>Watches a thread's event for hang-up (and ring wake-ups: every event writing into a ring is woken with it).</summary>
    private void Watch(Poller poller, PerfEvent e)
    {
        poller.Add(e.Fd, WatchKey + (ulong)_watched.Count);
        _watched.Add(e);
    }

    /// <summary>Decodes what every ring holds now into the pending batch (records are applied by <see cref="DrainAll"/>).</summary>
    private void ReadRings()
    {
        foreach (PerfEvent e in _rings)
        {
            e.Ring!.Read(_handler ??= OnRecord);
        }
    }

    /// <summary>
    /// Reads every ring and applies, in time order, the records older than the moment the reading began (less a
    /// margin for a record being written then): each ring is in time order, the rings together are not, and a record
    /// of one CPU read after another CPU's ring can be older than records read there (an exec on one CPU must come
    /// before the new program's samples on another; a thread's FORK before its samples). Newer records wait for the
    /// next drain, as perf's "finished round" does; the final drain applies everything.
    /// </summary>
    private void DrainAll(bool final)
    {
        ulong cutoff = final ? ulong.MaxValue : MonotonicNanos() - HoldBackNanos;
        ReadRings();
        _batch.Sort(static (a, b) => a.Time != b.Time ? a.Time.CompareTo(b.Time) : a.Seq.CompareTo(b.Seq));
        int applied = 0;
        while (applied < _batch.Count && _batch[applied].Time < cutoff)
        {
            Apply(_batch[applied].Record);
            applied++;
        }
        _batch.RemoveRange(0, applied);
    }

    /// <summary>CLOCK_MONOTONIC in nanoseconds (Stopwatch's clock on Linux), the clock the events stamp records with.</summary>
    private static ulong MonotonicNanos() => (ulong)(Stopwatch.GetTimestamp() * (1_000_000_000.0 / Stopwatch.Frequency));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void OnRecord(PerfEventHeader header, ReadOnlySpan<byte> body)
    {
        _bytesRead += header.Size;
        try
        {
            switch ((PerfRecordType)header.Type)
            {
                case PerfRecordType.Sample:
                    {
                        PerfSample s = PerfRecords.DecodeSample(body, SampleType);
                        _batch.Add((s.Time, _seq++, s));
                        break;
                    }
                case PerfRecordType.Mmap2:
                    {
                        PerfMmap2 m = PerfRecords.DecodeMmap2(header.Misc, body, SampleType);
                        if ((m.Prot & ProtExec) != 0)
                        {
                            _batch.Add((m.Time, _seq++, m));
                        }
                        break;
                    }
                case PerfRecordType.Comm:
                    {
                        PerfComm c = PerfRecords.DecodeComm(header.Misc, body, SampleType);
                        _batch.Add((c.Time, _seq++, c));
                        break;
                    }
                case PerfRecordType.Fork:
                case PerfRecordType.Exit:
                    {
                        PerfTaskRecord t = PerfRecords.DecodeTask((PerfRecordType)header.Type, body);
                        if (!t.IsExit)
                        {
                            _forked.Add(t.Tid); // it inherited the events of the task that created it
                        }
                        _batch.Add((t.Time, _seq++, t));
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
                    if (s.Time < _windowStart || s.Time > _windowEnd)
                    {
                        OutsideWindow++; // before sampling began (a command still stopped) or after the stop
                        break;
                    }
                    if (_tasks is not null && _forked.Contains(s.Tid) && _tasks.IsRescanEvent(s.Id, s.Tid))
                    {
                        // A rescan opened events on a thread that had inherited them already: the same CPU time
                        // is sampled by both, keep the inherited one's samples.
                        Duplicates++;
                        break;
                    }
                    Samples++;
                    CollectionsMarshal.GetValueRefOrAddDefault(_threads, s.Tid, out _)++;
                    CollectionsMarshal.GetValueRefOrAddDefault(_threadNanos, s.Tid, out _) += (long)s.Period;
                    int image = s.Pid > 0 ? ImageOf(s.Pid) : -1;
                    var key = (image, new CallchainKey(s.Callchain));
                    ref (long Count, long Nanos) slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_stacks, key, out _);
                    slot = (slot.Count + 1, slot.Nanos + (long)s.Period);
                    break;
                }
            case PerfMmap2 m:
                _images[ImageOf(m.Pid)].Add(m.Address, m.Address + m.Length, m.PageOffset, m.FileName);
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
        var resolver = new AddressResolver(Binaries);
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

        // Symbolization is the one resolver's (Symbols/AddressResolver): return addresses, caches and fallbacks are decided there.
        Location Loc(int image, ulong address, bool isKernel, bool leaf)
        {
            if (locations.TryGetValue((isKernel ? -2 : image, address), out Location? l))
            {
                return l;
            }
            l = new Location { Address = address };
            Resolution r = resolver.Resolve(isKernel || image < 0 ? null : _images[image], address, returnAddress: !leaf, kernel: isKernel);
            if (isKernel)
            {
                if (!profile.Mappings.Contains(kernelMapping))
                {
                    profile.Mappings.Add(kernelMapping);
                }
                l.Mapping = kernelMapping;
            }
            else if (r.Mapping is { } region)
            {
                if (!mappings.TryGetValue(region.Path + "@" + region.Start, out Mapping? m))
                {
                    m = new Mapping { MemoryStart = region.Start, MemoryLimit = region.End, FileOffset = region.Offset, File = region.Path, HasFunctions = true, HasFilenames = true, HasLineNumbers = true, HasInlineFrames = true };
                    mappings[region.Path + "@" + region.Start] = m;
                    profile.Mappings.Add(m);
                }
                l.Mapping = m;
                if (m.BuildId.Length == 0 && r.Binary?.Elf.BuildId is { } buildId)
                {
                    m.BuildId = buildId;
                }
            }
            if (r.Frames.Count > 0)
            {
                l.Lines = r.Frames.Select(f => new Line(Fn(f.Function, f.File ?? ""), f.Line)).ToArray();
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
