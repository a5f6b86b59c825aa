using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Kscope.Diagnostics.Symbols;
using Kscope.Formats;
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
    private const int PerfFlagPidCgroup = 1 << 2;
    private const int RingPages = 64;

    private readonly Dictionary<(int Pid, CallchainKey Chain), (long Count, long Nanos)> _stacks = [];
    private readonly Dictionary<int, ProcessMaps?> _maps = [];
    private PerfRecordHandler? _handler;
    private readonly Dictionary<int, PerfMap?> _perfMaps = [];

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
                    Flags = PerfEventAttrFlags.Freq | PerfEventAttrFlags.Disabled | PerfEventAttrFlags.Watermark |
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
            clock.Restart();
            started?.Invoke();
            Loop(events, epoll, clock, duration, progress, stopWhen, target.Pid is not null, ct);
            foreach (PerfEvent e in events)
            {
                e.Disable();
            }
            DrainAll(events);
            RefreshMaps();
            foreach (PerfEvent e in events)
            {
                Lost += e.Ring?.Lost ?? 0;
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
        TimeSpan lastDrain = TimeSpan.Zero, lastMaps = TimeSpan.Zero;
        while (!ct.IsCancellationRequested && !(stopWhen?.Invoke() ?? false))
        {
            TimeSpan left = duration - clock.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                break;
            }
            int n = epoll.Wait(ready, (int)Math.Min(tick, Math.Ceiling(left.TotalMilliseconds)));
            for (int i = 0; i < n; i++)
            {
                if (ready[i].Data == ulong.MaxValue)
                {
                    continue; // cancelled: the loop condition sees it
                }
                PerfEvent e = events[(int)ready[i].Data];
                Drain(e);
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
            if (now - lastDrain >= TimeSpan.FromMilliseconds(tick))
            {
                DrainAll(events);
                lastDrain = now;
                progress?.Invoke(now, Samples);
            }
            if (now - lastMaps > TimeSpan.FromSeconds(1))
            {
                RefreshMaps();
                lastMaps = now;
            }
        }
    }

    private void DrainAll(List<PerfEvent> events)
    {
        foreach (PerfEvent e in events)
        {
            Drain(e);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Drain(PerfEvent e) => e.Ring!.Read(_handler ??= OnRecord);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void OnRecord(PerfEventHeader header, ReadOnlySpan<byte> body)
    {
        if (header.Type != (uint)PerfRecordType.Sample)
        {
            return;
        }
        PerfSample s;
        try
        {
            s = PerfRecords.DecodeSample(body, SampleType);
        }
        catch (MalformedDataException)
        {
            return;
        }
        Samples++;
        if (s.Pid > 0 && !_maps.ContainsKey(s.Pid))
        {
            _maps[s.Pid] = ProcessMaps.Read(s.Pid);
        }
        var key = (s.Pid, new CallchainKey(s.Callchain));
        ref (long Count, long Nanos) slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_stacks, key, out _);
        slot = (slot.Count + 1, slot.Nanos + (long)s.Period);
    }

    private void RefreshMaps()
    {
        foreach (int pid in _maps.Keys.ToList())
        {
            if (ProcessMaps.Read(pid) is { Regions.Count: > 0 } m)
            {
                _maps[pid] = m;
            }
        }
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
        profile.Comments.Add($"kscope profile: perf_event_open cpu-clock at {frequency} Hz");
        var kernel = new Lazy<KernelSymbols>(() => KernelSymbols.LoadOrEmpty());
        var binaries = new BinaryCache();
        var mappings = new Dictionary<string, Mapping>(StringComparer.Ordinal);
        var functions = new Dictionary<(string, string), Function>();
        var locations = new Dictionary<(int, ulong), Location>();
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

        Location Loc(int pid, ulong address, bool isKernel, bool leaf)
        {
            if (locations.TryGetValue((isKernel ? 0 : pid, address), out Location? l))
            {
                return l;
            }
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
            else if (_maps.GetValueOrDefault(pid)?.Find(address) is { } region)
            {
                if (!mappings.TryGetValue(region.Path + "@" + region.Start, out Mapping? m))
                {
                    m = new Mapping { MemoryStart = region.Start, MemoryLimit = region.End, FileOffset = region.Offset, File = region.Path, HasFunctions = true, HasFilenames = true, HasLineNumbers = true, HasInlineFrames = true };
                    mappings[region.Path + "@" + region.Start] = m;
                    profile.Mappings.Add(m);
                }
                l.Mapping = m;
                BinarySymbolizer? sym = binaries.For(pid, region.Path);
                if (sym is not null)
                {
                    if (m.BuildId.Length == 0)
                    {
                        m.BuildId = sym.Elf.BuildId ?? "";
                    }
                    ulong fileOffset = lookup - region.Start + region.Offset;
                    if (sym.Elf.TryGetVirtualAddress(fileOffset, out ulong vaddr))
                    {
                        try
                        {
                            l.Lines = sym.Symbolize(vaddr).Select(f => new Line(Fn(f.Function, f.File ?? ""), f.Line)).ToArray();
                        }
                        catch (MalformedDataException)
                        {
                        }
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
            locations[(isKernel ? 0 : pid, address)] = l;
            profile.Locations.Add(l);
            return l;
        }

        var stack = new List<Location>();
        foreach (var ((pid, chain), (count, nanos)) in _stacks)
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
                stack.Add(Loc(pid, ip, isKernel, leaf));
                leaf = false;
            }
            var labels = new List<Label> { new("pid", null, pid) };
            if (CommOf(pid) is { } comm)
            {
                labels.Add(new Label("comm", comm));
            }
            profile.Samples.Add(new Sample { Locations = stack.ToArray(), Values = [count, nanos], Labels = labels.ToArray() });
        }
        return profile;
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
