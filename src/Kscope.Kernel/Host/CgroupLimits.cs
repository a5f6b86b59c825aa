using Kscope.Formats;
using Kscope.Formats.Cgroups;
using Kscope.Formats.Procfs;
using Kscope.Native;

namespace Kscope.Kernel.Host;

/// <summary>
/// What the cgroups allow a process: CPUs, CPU quota (the tightest of its cgroup and every ancestor),
/// throttling, memory, pids, pressure; from v2 files where the controller is on v2, else from v1
/// (hybrid machines mix). Each value carries the file it came from.
/// </summary>
public sealed class CgroupLimits
{
    /// <summary>v1 memory "unlimited" is PAGE_COUNTER_MAX pages (0x7FFFFFFFFFFFF000 on 4 KiB pages); anything that high means no limit.</summary>
    private const ulong V1Unlimited = 0x7FFF_FFFF_0000_0000;

    public required CgroupMode Mode { get; init; }

    public required IReadOnlyList<CgroupHierarchy> Hierarchies { get; init; }

    public required IReadOnlyList<ProcessCgroup> Cgroups { get; init; }

    /// <summary>CPUs the process may run on: its affinity (Cpus_allowed_list) intersected with its cpuset.</summary>
    public required Sourced<IReadOnlyList<int>> EffectiveCpus { get; init; }

    /// <summary>Memory nodes of its cpuset (cpuset.mems.effective / cpuset.effective_mems), else Mems_allowed_list.</summary>
    public Sourced<IReadOnlyList<int>>? MemoryNodes { get; init; }

    /// <summary>The tightest CPU quota along the cgroup's ancestry; null when no cgroup has one.</summary>
    public Sourced<CpuMax>? CpuQuota { get; init; }

    /// <summary>Throttling of the cgroup that holds the quota (or the process's own cpu cgroup).</summary>
    public CpuThrottling? Throttling { get; init; }

    public Sourced<ulong>? MemoryLimit { get; init; }

    public Sourced<ulong>? MemoryUsage { get; init; }

    public Sourced<ulong>? PidsLimit { get; init; }

    public Sourced<ulong>? PidsCurrent { get; init; }

    public Sourced<Pressure>? CpuPressure { get; init; }

    public Sourced<Pressure>? MemoryPressure { get; init; }

    public Sourced<Pressure>? IoPressure { get; init; }

    /// <summary>Reads everything for <paramref name="pid"/> (null = this process).</summary>
    public static CgroupLimits Read(int? pid = null)
    {
        IReadOnlyList<CgroupHierarchy> hierarchies = Host.Cgroups.Hierarchies(Procfs.MountInfo(pid));
        IReadOnlyList<ProcessCgroup> cgroups = Host.Cgroups.Of(pid, hierarchies);
        ProcStatus status = Procfs.Status(pid);

        ProcessCgroup? cpu = Controller(cgroups, "cpu");
        ProcessCgroup? cpuset = Controller(cgroups, "cpuset");
        ProcessCgroup? memory = Controller(cgroups, "memory");
        ProcessCgroup? pids = Controller(cgroups, "pids");
        ProcessCgroup? unified = cgroups.FirstOrDefault(c => c.Hierarchy.Version == 2);

        Sourced<CpuMax>? quota = cpu is null ? null : Quota(cpu);
        string? statDir = quota is null ? cpu?.Directory : Path.GetDirectoryName(quota.Source);
        string pressureDir = unified is not null && File.Exists(Path.Combine(unified.Directory, "cpu.pressure")) ? unified.Directory : "/proc/pressure";
        string pressureSuffix = pressureDir == "/proc/pressure" ? "" : ".pressure";

        return new CgroupLimits
        {
            Mode = Host.Cgroups.Mode(hierarchies),
            Hierarchies = hierarchies,
            Cgroups = cgroups,
            EffectiveCpus = ReadEffectiveCpus(status, cpuset),
            MemoryNodes = ReadMemoryNodes(status, cpuset),
            CpuQuota = quota,
            Throttling = statDir is null || cpu is null ? null : ReadThrottling(statDir, cpu.Hierarchy.Version),
            MemoryLimit = memory is null ? null : MemoryLimitOf(memory),
            MemoryUsage = memory is null ? null : Number(memory.Directory, memory.Hierarchy.Version == 2 ? "memory.current" : "memory.usage_in_bytes"),
            PidsLimit = pids is null ? null : Tightest(pids, "pids.max"),
            PidsCurrent = pids is null ? null : Number(pids.Directory, "pids.current"),
            CpuPressure = PressureOf(Path.Combine(pressureDir, "cpu" + pressureSuffix)),
            MemoryPressure = PressureOf(Path.Combine(pressureDir, "memory" + pressureSuffix)),
            IoPressure = PressureOf(Path.Combine(pressureDir, "io" + pressureSuffix)),
        };
    }

    /// <summary>The process's cgroup in the hierarchy that has <paramref name="controller"/>: v2 when enabled there (its interface files exist), else v1.</summary>
    public static ProcessCgroup? Controller(IReadOnlyList<ProcessCgroup> cgroups, string controller) =>
        cgroups.FirstOrDefault(c => c.Hierarchy.Version == 2 && c.Hierarchy.Has(controller) && HasV2Files(c, controller))
        ?? cgroups.FirstOrDefault(c => c.Hierarchy.Version == 1 && c.Hierarchy.Has(controller));

    /// <summary>A v2 controller applies to a cgroup when it is the root, or its cgroup.controllers (enabled by the parent) lists it.</summary>
    private static bool HasV2Files(ProcessCgroup c, string controller)
    {
        if (c.Directory.TrimEnd('/') == c.Hierarchy.MountPoint.TrimEnd('/'))
        {
            return true;
        }
        string? enabled = Procfs.TryReadText(Path.Combine(c.Directory, "cgroup.controllers"));
        return enabled is not null && enabled.Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries).Contains(controller, StringComparer.Ordinal);
    }

    /// <summary>The directory and its ancestors up to the hierarchy's mount point.</summary>
    public static IEnumerable<string> Ancestry(ProcessCgroup cgroup)
    {
        string mount = cgroup.Hierarchy.MountPoint.TrimEnd('/');
        for (string? dir = cgroup.Directory.TrimEnd('/'); dir is not null && dir.Length >= mount.Length; dir = Path.GetDirectoryName(dir))
        {
            yield return dir;
            if (dir == mount)
            {
                yield break;
            }
        }
    }

    private static Sourced<CpuMax>? Quota(ProcessCgroup cpu)
    {
        Sourced<CpuMax>? best = null;
        foreach (string dir in Ancestry(cpu))
        {
            Sourced<CpuMax>? here;
            if (cpu.Hierarchy.Version == 2)
            {
                string file = Path.Combine(dir, "cpu.max");
                string? text = Procfs.TryReadText(file);
                here = text is null ? null : new Sourced<CpuMax>(CpuMax.Parse(text, file), file);
            }
            else
            {
                string quotaFile = Path.Combine(dir, "cpu.cfs_quota_us"), periodFile = Path.Combine(dir, "cpu.cfs_period_us");
                string? q = Procfs.TryReadText(quotaFile), p = Procfs.TryReadText(periodFile);
                here = q is null || p is null ? null : new Sourced<CpuMax>(CpuMax.FromV1(q, p, quotaFile, periodFile), quotaFile);
            }
            if (here?.Value.Cpus is double cpus && (best?.Value.Cpus is not double b || cpus < b))
            {
                best = here;
            }
        }
        return best;
    }

    /// <summary>cpu.stat throttling counters of a cgroup directory (v1 or v2); null when the file or its counters are missing.</summary>
    public static CpuThrottling? ReadThrottling(string dir, int version)
    {
        string file = Path.Combine(dir, "cpu.stat");
        string? text = Procfs.TryReadText(file);
        if (text is null)
        {
            return null;
        }
        IReadOnlyDictionary<string, ulong> stat = FlatKeyed.Parse(text, file, "cgroup cpu.stat");
        if (!stat.TryGetValue("nr_periods", out ulong periods) || !stat.TryGetValue("nr_throttled", out ulong throttled))
        {
            return null; // v2 cpu.stat without the cpu controller has only usage_usec & co.
        }
        ulong micros = version == 2 || stat.ContainsKey("throttled_usec")
            ? stat.GetValueOrDefault("throttled_usec")
            : stat.GetValueOrDefault("throttled_time") / 1000;
        return new CpuThrottling(periods, throttled, micros, file);
    }

    private static Sourced<IReadOnlyList<int>> ReadEffectiveCpus(ProcStatus status, ProcessCgroup? cpuset)
    {
        string affinitySource = $"{status.Source} Cpus_allowed_list";
        IReadOnlyList<int> affinity = status.CpusAllowedList is string list
            ? CpuList.Parse(list, affinitySource)
            : OnlineCpus();
        if (cpuset is null)
        {
            return new(affinity, affinitySource);
        }
        string file = Path.Combine(cpuset.Directory, cpuset.Hierarchy.Version == 2 ? "cpuset.cpus.effective" : "cpuset.effective_cpus");
        string? text = Procfs.TryReadText(file);
        if (text is null && cpuset.Hierarchy.Version == 1)
        {
            file = Path.Combine(cpuset.Directory, "cpuset.cpus");
            text = Procfs.TryReadText(file);
        }
        return text is null
            ? new(affinity, affinitySource)
            : new(CpuList.Parse(text, file).Intersect(affinity).ToList(), $"{file} ∩ {affinitySource}");
    }

    private static Sourced<IReadOnlyList<int>>? ReadMemoryNodes(ProcStatus status, ProcessCgroup? cpuset)
    {
        if (cpuset is not null)
        {
            string file = Path.Combine(cpuset.Directory, cpuset.Hierarchy.Version == 2 ? "cpuset.mems.effective" : "cpuset.effective_mems");
            if (Procfs.TryReadText(file) is string text)
            {
                return new(CpuList.Parse(text, file), file);
            }
        }
        return status.MemsAllowedList is string list ? new(CpuList.Parse(list, status.Source), $"{status.Source} Mems_allowed_list") : null;
    }

    /// <summary>/sys/devices/system/cpu/online.</summary>
    public static IReadOnlyList<int> OnlineCpus() => CpuList.Parse(Procfs.ReadText("/sys/devices/system/cpu/online"), "/sys/devices/system/cpu/online");

    private static Sourced<ulong>? MemoryLimitOf(ProcessCgroup memory)
    {
        if (memory.Hierarchy.Version == 2)
        {
            return Tightest(memory, "memory.max");
        }
        // v1: memory.stat's hierarchical_memory_limit is already the tightest along the ancestry.
        string statFile = Path.Combine(memory.Directory, "memory.stat");
        if (Procfs.TryReadText(statFile) is string stat &&
            FlatKeyed.Parse(stat, statFile, "cgroup memory.stat").TryGetValue("hierarchical_memory_limit", out ulong limit))
        {
            return limit >= V1Unlimited ? null : new(limit, $"{statFile} hierarchical_memory_limit");
        }
        Sourced<ulong>? own = Number(memory.Directory, "memory.limit_in_bytes");
        return own is null || own.Value >= V1Unlimited ? null : own;
    }

    /// <summary>The smallest "max"-or-number limit in <paramref name="file"/> along the ancestry.</summary>
    private static Sourced<ulong>? Tightest(ProcessCgroup cgroup, string file)
    {
        Sourced<ulong>? best = null;
        foreach (string dir in Ancestry(cgroup))
        {
            string path = Path.Combine(dir, file);
            if (Procfs.TryReadText(path) is string text && CgroupValue.Limit(text, path) is ulong v && (best is null || v < best.Value))
            {
                best = new(v, path);
            }
        }
        return best;
    }

    private static Sourced<ulong>? Number(string dir, string file)
    {
        string path = Path.Combine(dir, file);
        return Procfs.TryReadText(path) is string text ? new(CgroupValue.Number(text, path), path) : null;
    }

    private static Sourced<Pressure>? PressureOf(string path)
    {
        try
        {
            return Procfs.TryReadText(path) is string text ? new(Pressure.Parse(text, path), path) : null;
        }
        catch (KernelException e) when (e.Errno == Errno.EOPNOTSUPP)
        {
            return null; // psi=0 on the command line: the files exist but refuse reads
        }
    }
}
