using Kscope.Diagnostics.Trace;
using Kscope.Kernel.Host;

namespace Kscope.Diagnostics.Diagnose;

/// <summary>
/// What a capture watches, resolved once at its start: the target's processes (the first is the main one), the
/// cgroup whose counters belong to it in each controller's hierarchy (hybrid hosts mix v1 and v2), and where its
/// pressure (PSI) is read. Built from a pid or a cgroup directory.
/// </summary>
public sealed record DiagnoseTarget
{
    /// <summary>Processes followed by the per-process counters (at most <see cref="MaxProcesses"/>).</summary>
    public const int MaxProcesses = 16;

    /// <summary>"pid 1234", "cgroup /sys/fs/cgroup/…", "command ./server".</summary>
    public required string Description { get; init; }

    public required IReadOnlyList<int> Pids { get; init; }

    /// <summary>The main process (whose environment and binary say GOMAXPROCS).</summary>
    public int Pid => Pids[0];

    /// <summary>The cgroup given with --cgroup; null for a process.</summary>
    public string? CgroupDirectory { get; init; }

    /// <summary>The process's cpu cgroup (v2 directory with the cpu controller, else the v1 cpu one) and its version.</summary>
    public (string Directory, int Version)? Cpu { get; init; }

    /// <summary>The cgroup along the cpu cgroup's ancestry holding the tightest quota, when it is not <see cref="Cpu"/> itself.</summary>
    public (string Directory, int Version)? QuotaCgroup { get; init; }

    public (string Directory, int Version)? Memory { get; init; }

    public (string Directory, int Version)? PidsCgroup { get; init; }

    /// <summary>The directory of cpu.pressure &amp; co (a v2 cgroup), or /proc/pressure (the host's, on v1 or without PSI per cgroup).</summary>
    public string? PressureDirectory { get; init; }

    /// <summary>The process's limits at the start (quota along the ancestry, CPUs, memory, pids).</summary>
    public required CgroupLimits Limits { get; init; }

    /// <summary>For a process (and the processes it will start: they share its cgroups).</summary>
    public static DiagnoseTarget ForProcess(int pid, string? description = null) =>
        Resolve(description ?? $"pid {pid}", [pid], null);

    /// <summary>For the processes of a cgroup directory (any hierarchy); their cgroups in the other hierarchies are those of its first process.</summary>
    public static DiagnoseTarget ForCgroup(string directory)
    {
        string dir = Path.GetFullPath(directory).TrimEnd('/');
        if (!Directory.Exists(dir) || !File.Exists(Path.Combine(dir, "cgroup.procs")))
        {
            throw new TraceTargetException($"diagnose: {directory} is not a cgroup directory (no cgroup.procs); give a directory under /sys/fs/cgroup");
        }
        List<int> pids = [.. TargetResolver.PidsIn(dir).Order()];
        if (pids.Count == 0)
        {
            throw new TraceTargetException($"diagnose: {dir} holds no process (cgroup.procs is empty); give the cgroup of a running service");
        }
        return Resolve($"cgroup {dir}", pids, dir);
    }

    private static DiagnoseTarget Resolve(string description, IReadOnlyList<int> pids, string? cgroupDir)
    {
        int pid = pids[0];
        if (!Directory.Exists($"/proc/{pid}"))
        {
            throw new TraceTargetException($"diagnose: no process {pid} (/proc/{pid} does not exist)");
        }
        CgroupLimits limits = CgroupLimits.Read(pid);
        ProcessCgroup? cpu = CgroupLimits.Controller(limits.Cgroups, "cpu");
        ProcessCgroup? memory = CgroupLimits.Controller(limits.Cgroups, "memory");
        ProcessCgroup? pidsCg = CgroupLimits.Controller(limits.Cgroups, "pids");
        ProcessCgroup? unified = limits.Cgroups.FirstOrDefault(c => c.Hierarchy.Version == 2);
        string? quotaDir = limits.CpuQuota is { } q ? Path.GetDirectoryName(q.Source) : null;
        (string, int)? quotaCgroup = cpu is not null && quotaDir is not null && quotaDir.TrimEnd('/') != cpu.Directory.TrimEnd('/')
            ? (quotaDir, cpu.Hierarchy.Version)
            : null;
        string? pressure = unified is not null && File.Exists(Path.Combine(unified.Directory, "cpu.pressure")) ? unified.Directory
            : File.Exists("/proc/pressure/cpu") ? "/proc/pressure" : null;
        return new DiagnoseTarget
        {
            Description = description,
            Pids = pids.Take(MaxProcesses).ToList(),
            CgroupDirectory = cgroupDir,
            Cpu = cpu is null ? null : (cpu.Directory, cpu.Hierarchy.Version),
            QuotaCgroup = quotaCgroup,
            Memory = memory is null ? null : (memory.Directory, memory.Hierarchy.Version),
            PidsCgroup = pidsCg is null ? null : (pidsCg.Directory, pidsCg.Hierarchy.Version),
            PressureDirectory = pressure,
            Limits = limits,
        };
    }
}
