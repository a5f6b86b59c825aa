using Kscope.Diagnostics.Trace;
using Kscope.Formats.Procfs;
using Kscope.Kernel.Host;

namespace Kscope.Diagnostics.Profiling;

/// <summary>What to sample: a process and its threads/children (inherit), a cgroup, or every CPU.</summary>
public sealed record ProfileTarget(int? Pid = null, string? CgroupPath = null, bool All = false)
{
    public override string ToString() => Pid is int p ? $"pid {p}" : CgroupPath is { } c ? $"cgroup {c}" : "all CPUs";

    /// <summary>
    /// A container by id (6+ characters, as `kscope trace --container`): the container's cgroup in the
    /// hierarchy that carries perf_event (a v1 perf_event hierarchy, else the unified one), sampled with
    /// PERF_FLAG_PID_CGROUP so processes it starts later are sampled too.
    /// </summary>
    public static ProfileTarget ForContainer(string id)
    {
        TraceFilter filter = TargetResolver.ForContainer(new TraceFilter(), id);
        IReadOnlyList<CgroupHierarchy> hierarchies = Cgroups.Hierarchies(Procfs.MountInfo());
        CgroupHierarchy? v1 = hierarchies.FirstOrDefault(h => h.Version == 1 && h.Has("perf_event"));
        CgroupHierarchy? hierarchy = v1 ?? hierarchies.FirstOrDefault(h => h.Version == 2);
        foreach (int pid in filter.Pids.Order())
        {
            string file = $"/proc/{pid}/cgroup";
            if (Procfs.TryReadText(file) is not string text)
            {
                continue; // exited since
            }
            ProcCgroupEntry? entry = ProcCgroupEntry.Parse(text, file)
                .FirstOrDefault(e => v1 is not null ? e.Controllers.Contains("perf_event") : e.IsUnified);
            if (hierarchy is not null && entry is not null && hierarchy.Directory(entry.Path) is string dir && Directory.Exists(dir))
            {
                return new ProfileTarget(CgroupPath: dir);
            }
        }
        throw new TraceTargetException($"profile: container '{id}' has no perf_event cgroup directory (mounted hierarchies: {string.Join(", ", hierarchies.Select(h => h.MountPoint))})");
    }
}
