using System.Diagnostics;
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
    private const int PerfFlagPidCgroup = 1 << 2;

    private readonly Dictionary<(int Pid, CallchainKey Chain), (long Count, long Nanos)> _stacks = [];
    private readonly Dictionary<int, ProcessMaps> _maps = [];
    private readonly Dictionary<int, PerfMap?> _perfMaps = [];

    public ulong Samples { get; private set; }

    public ulong Lost { get; private set; }

    /// <summary>Samples for <paramref name="duration"/> (or until cancelled, or until <paramref name="stopWhen"/> says so).</summary>
    public async Task<Profile> RunAsync(ProfileTarget target, int frequency, TimeSpan duration, Action<TimeSpan, ulong>? progress, Func<bool>? stopWhen, CancellationToken ct)
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
                    Flags = PerfEventAttrFlags.Freq | PerfEventAttrFlags.Disabled | (target.Pid is not null ? PerfEventAttrFlags.Inherit : 0),
                    WakeupEvents = 16,
                    SampleMaxStack = 127,
                };
                PerfEvent e = PerfEvent.Open(attr, pid, cpu, -1, flags, $"perf_event_open cpu-clock for {target} on cpu {cpu}");
                events.Add(e);
                e.MapRing(64);
            }
            foreach (PerfEvent e in events)
            {
                e.Enable();
            }
            TimeSpan lastMaps = TimeSpan.Zero;
            while (clock.Elapsed < duration && !ct.IsCancellationRequested && !(stopWhen?.Invoke() ?? false))
            {
                try
                {
                    await Task.Delay(100, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                Drain(events);
                if (clock.Elapsed - lastMaps > TimeSpan.FromSeconds(1))
                {
                    RefreshMaps();
                    lastMaps = clock.Elapsed;
                }
                progress?.Invoke(clock.Elapsed, Samples);
            }
            foreach (PerfEvent e in events)
            {
                e.Disable();
            }
            Drain(events);
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

    private void Drain(List<PerfEvent> events)
    {
        foreach (PerfEvent e in events)
        {
            e.Ring!.Read((header, body) =>
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
                if (!_maps.ContainsKey(s.Pid) && s.Pid > 0 && ProcessMaps.Read(s.Pid) is { } m)
                {
                    _maps[s.Pid] = m;
                }
                var key = (s.Pid, new CallchainKey(s.Callchain));
                var (count, nanos) = _stacks.GetValueOrDefault(key);
                _stacks[key] = (count + 1, nanos + (long)s.Period);
            });
        }
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
        var binaries = new Dictionary<string, BinarySymbolizer?>(StringComparer.Ordinal);
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
                BinarySymbolizer? sym = Binary(pid, region.Path, binaries);
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

    private static BinarySymbolizer? Binary(int pid, string path, Dictionary<string, BinarySymbolizer?> cache)
    {
        if (!path.StartsWith('/'))
        {
            return null;
        }
        if (cache.TryGetValue(path, out BinarySymbolizer? s))
        {
            return s;
        }
        s = null;
        foreach (string candidate in new[] { $"/proc/{pid}/root{path}", path })
        {
            try
            {
                if (File.Exists(candidate))
                {
                    s = new BinarySymbolizer(ElfFile.Load(candidate));
                    break;
                }
            }
            catch (MalformedDataException)
            {
                break;
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        cache[path] = s;
        return s;
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
