using System.Globalization;
using Kscope.Formats;
using Kscope.Formats.Cgroups;
using Kscope.Formats.Procfs;
using Kscope.Kernel.Host;
using Kscope.Native;

namespace Kscope.Diagnostics.Diagnose;

/// <summary>
/// Reads the target's counters into the timeline, one point per series per <see cref="Sample"/>: cgroup cpu.stat
/// (v1 and v2: nr_periods, nr_throttled, throttled_us, usage_us) of its cpu cgroup and of the ancestor holding the
/// quota, PSI (cpu/memory/io some and full totals), memory current/max/events, pids current/max, and per process
/// its threads, fds and RLIMIT_NOFILE, voluntary and involuntary context switches and schedstat (run and run-queue
/// wait), summed over its threads. A file that vanished (the process exited) is skipped; one that does not parse
/// is counted in <see cref="ReadErrors"/> with its message, and the rest is still read.
/// </summary>
public sealed class CounterPoller
{
    /// <summary>Threads read per process per sample; the rest are counted in <see cref="ThreadsSkipped"/>.</summary>
    public const int MaxThreads = 4096;

    private readonly DiagnoseTarget _target;
    private readonly Timeline _timeline;
    private readonly Dictionary<int, ulong?> _fdLimits = [];

    public CounterPoller(DiagnoseTarget target, Timeline timeline)
    {
        (_target, _timeline) = (target, timeline);
        foreach (int pid in target.Pids)
        {
            _fdLimits[pid] = FdLimit(pid);
        }
    }

    public ulong Samples { get; private set; }

    public ulong ReadErrors { get; private set; }

    public string? LastError { get; private set; }

    public ulong ThreadsSkipped { get; private set; }

    public static string CgroupScope(string dir) => "cgroup:" + dir;

    public static string ProcessScope(int pid) => "pid:" + pid.ToString(CultureInfo.InvariantCulture);

    /// <summary>The scope PSI is recorded under: the cgroup, or "host" for /proc/pressure.</summary>
    public static string PressureScope(string dir) => dir == "/proc/pressure" ? "host" : CgroupScope(dir);

    /// <summary>Reads every counter once, at the current CLOCK_MONOTONIC time.</summary>
    public void Sample()
    {
        ulong now = MonotonicClock.NowNs();
        Samples++;
        if (_target.Cpu is var (cpuDir, cpuVersion))
        {
            Guard(() => CpuStat(now, cpuDir, cpuVersion));
        }
        if (_target.QuotaCgroup is var (quotaDir, quotaVersion))
        {
            Guard(() => CpuStat(now, quotaDir, quotaVersion));
        }
        if (_target.PressureDirectory is string pressure)
        {
            foreach (string resource in new[] { "cpu", "memory", "io" })
            {
                Guard(() => Psi(now, pressure, resource));
            }
        }
        if (_target.Memory is var (memDir, memVersion))
        {
            Guard(() => MemoryCounters(now, memDir, memVersion));
        }
        if (_target.PidsCgroup is var (pidsDir, _))
        {
            Guard(() =>
            {
                Number(now, pidsDir, "pids.current", "pids_current");
                Limit(now, pidsDir, "pids.max", "pids_max");
            });
        }
        foreach (int pid in _target.Pids)
        {
            Guard(() => Process(now, pid));
        }
    }

    private void Guard(Action read)
    {
        try
        {
            read();
        }
        catch (KernelException e) when (e.Errno is Errno.ENOENT or Errno.ESRCH or Errno.ENODEV or Errno.ENOTDIR)
        {
            // gone: the process exited or the cgroup was removed
        }
        catch (Exception e) when (e is MalformedDataException or KernelException or IOException or UnauthorizedAccessException)
        {
            ReadErrors++;
            LastError = e.Message;
        }
    }

    private void Point(ulong now, string scope, string name, double value) => _timeline.AddPoint(scope, name, now, value);

    private void CpuStat(ulong now, string dir, int version)
    {
        string file = Path.Combine(dir, "cpu.stat");
        if (Procfs.TryReadText(file) is not string text)
        {
            return;
        }
        IReadOnlyDictionary<string, ulong> stat = FlatKeyed.Parse(text, file, "cgroup cpu.stat");
        string scope = CgroupScope(dir);
        if (stat.TryGetValue("nr_periods", out ulong periods) && stat.TryGetValue("nr_throttled", out ulong throttled))
        {
            Point(now, scope, "nr_periods", periods);
            Point(now, scope, "nr_throttled", throttled);
            // v2 throttled_usec; v1 throttled_time in nanoseconds (newer v1 kernels also print throttled_usec).
            ulong micros = version == 2 || stat.ContainsKey("throttled_usec") ? stat.GetValueOrDefault("throttled_usec") : stat.GetValueOrDefault("throttled_time") / 1000;
            Point(now, scope, "throttled_us", micros);
        }
        if (stat.TryGetValue("usage_usec", out ulong usage))
        {
            Point(now, scope, "usage_us", usage);
        }
        else if (version == 1 && Procfs.TryReadText(Path.Combine(dir, "cpuacct.usage")) is string v1Usage)
        {
            Point(now, scope, "usage_us", CgroupValue.Number(v1Usage, Path.Combine(dir, "cpuacct.usage")) / 1000.0);
        }
    }

    private void Psi(ulong now, string dir, string resource)
    {
        string file = dir == "/proc/pressure" ? Path.Combine(dir, resource) : Path.Combine(dir, resource + ".pressure");
        string? text;
        try
        {
            text = Procfs.TryReadText(file);
        }
        catch (KernelException e) when (e.Errno == Errno.EOPNOTSUPP)
        {
            return; // psi=0: the files exist but refuse reads
        }
        if (text is null)
        {
            return;
        }
        Pressure p = Pressure.Parse(text, file);
        string scope = PressureScope(dir);
        Point(now, scope, $"{resource}_some_total_us", p.Some.TotalMicroseconds);
        if (p.Full is { } full)
        {
            Point(now, scope, $"{resource}_full_total_us", full.TotalMicroseconds);
        }
    }

    private void MemoryCounters(ulong now, string dir, int version)
    {
        if (version == 2)
        {
            Number(now, dir, "memory.current", "memory_current_bytes");
            Limit(now, dir, "memory.max", "memory_max_bytes");
            string file = Path.Combine(dir, "memory.events");
            if (Procfs.TryReadText(file) is string events)
            {
                foreach ((string key, ulong value) in FlatKeyed.Parse(events, file, "cgroup memory.events"))
                {
                    if (key is "low" or "high" or "max" or "oom" or "oom_kill" or "oom_group_kill")
                    {
                        Point(now, CgroupScope(dir), "memory_events_" + key, value);
                    }
                }
            }
        }
        else
        {
            Number(now, dir, "memory.usage_in_bytes", "memory_current_bytes");
            Number(now, dir, "memory.failcnt", "memory_failcnt");
        }
    }

    private void Number(ulong now, string dir, string file, string name)
    {
        string path = Path.Combine(dir, file);
        if (Procfs.TryReadText(path) is string text)
        {
            Point(now, CgroupScope(dir), name, CgroupValue.Number(text, path));
        }
    }

    private void Limit(ulong now, string dir, string file, string name)
    {
        string path = Path.Combine(dir, file);
        if (Procfs.TryReadText(path) is string text && CgroupValue.Limit(text, path) is ulong value)
        {
            Point(now, CgroupScope(dir), name, value); // "max": no point (no limit)
        }
    }

    private void Process(ulong now, int pid)
    {
        string proc = $"/proc/{pid}";
        if (!Directory.Exists(proc))
        {
            return;
        }
        ulong run = 0, wait = 0, slices = 0, voluntary = 0, involuntary = 0;
        int threads = 0;
        foreach (string task in Directory.EnumerateDirectories($"{proc}/task"))
        {
            if (threads >= MaxThreads)
            {
                ThreadsSkipped++;
                continue;
            }
            string? sched = Procfs.TryReadText($"{task}/schedstat");
            string? status = Procfs.TryReadText($"{task}/status");
            if (sched is null || status is null)
            {
                continue; // the thread exited between the listing and the read
            }
            threads++;
            ProcSchedStat s = ProcSchedStat.Parse(sched, $"{task}/schedstat");
            (run, wait, slices) = (run + s.RunNs, wait + s.WaitNs, slices + s.Timeslices);
            ProcStatus st = ProcStatus.Parse(status, $"{task}/status");
            voluntary += Counter(st, "voluntary_ctxt_switches");
            involuntary += Counter(st, "nonvoluntary_ctxt_switches");
        }
        if (threads == 0)
        {
            return;
        }
        string scope = ProcessScope(pid);
        Point(now, scope, "threads", threads);
        Point(now, scope, "run_ns", run);
        Point(now, scope, "runqueue_wait_ns", wait);
        Point(now, scope, "timeslices", slices);
        Point(now, scope, "voluntary_ctxt_switches", voluntary);
        Point(now, scope, "nonvoluntary_ctxt_switches", involuntary);
        int fds = 0;
        try
        {
            fds = Directory.EnumerateFileSystemEntries($"{proc}/fd").Count();
        }
        catch (Exception e) when (e is DirectoryNotFoundException or IOException)
        {
            return;
        }
        Point(now, scope, "fds", fds);
        if (_fdLimits.GetValueOrDefault(pid) is ulong limit)
        {
            Point(now, scope, "fd_limit", limit);
        }

        static ulong Counter(ProcStatus st, string key) =>
            st.Get(key) is string v ? TextParsing.U64("proc status", st.Source, 0, v, key) : 0;
    }

    private static ulong? FdLimit(int pid)
    {
        try
        {
            ProcLimit? l = Procfs.Limits(pid).FirstOrDefault(l => l.Name == "Max open files");
            return l is null || l.Soft == ProcLimit.Unlimited ? null : l.Soft;
        }
        catch (Exception e) when (e is KernelException or MalformedDataException)
        {
            return null;
        }
    }
}
