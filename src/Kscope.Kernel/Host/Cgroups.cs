using Kscope.Formats.Procfs;

namespace Kscope.Kernel.Host;

/// <summary>
/// Finds the cgroup hierarchies from mountinfo (cgroup = v1, cgroup2 = v2) and a process's cgroup in
/// each. Limits are read by <see cref="CgroupLimits"/>.
/// </summary>
public static class Cgroups
{
    /// <summary>v1 controller names (kernel/cgroup/*, include/linux/cgroup_subsys.h).</summary>
    private static readonly HashSet<string> s_v1Controllers = new(StringComparer.Ordinal)
    {
        "cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "net_cls", "net_prio", "blkio", "io",
        "perf_event", "hugetlb", "pids", "rdma", "misc",
    };

    public static IReadOnlyList<CgroupHierarchy> Hierarchies(IReadOnlyList<MountInfoEntry> mounts)
    {
        var result = new List<CgroupHierarchy>();
        foreach (MountInfoEntry m in mounts)
        {
            if (m.FileSystemType == "cgroup2")
            {
                string? controllers = Procfs.TryReadText(Path.Combine(m.MountPoint, "cgroup.controllers"));
                result.Add(new CgroupHierarchy(2, m.MountPoint, m.Root, controllers is null ? [] : controllers.Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries), null));
            }
            else if (m.FileSystemType == "cgroup")
            {
                string[] options = m.SuperOptions.Split(',');
                string? name = options.FirstOrDefault(o => o.StartsWith("name=", StringComparison.Ordinal))?[5..];
                result.Add(new CgroupHierarchy(1, m.MountPoint, m.Root, options.Where(s_v1Controllers.Contains).Order(StringComparer.Ordinal).ToArray(), name));
            }
        }
        // Several mounts of one hierarchy (bind mounts): keep the first of each.
        return result.DistinctBy(h => (h.Version, string.Join(',', h.Controllers), h.Name)).ToList();
    }

    public static CgroupMode Mode(IReadOnlyList<CgroupHierarchy> hierarchies)
    {
        bool v2 = hierarchies.Any(h => h.Version == 2);
        bool v1 = hierarchies.Any(h => h.Version == 1 && h.Controllers.Count > 0);
        return (v1, v2) switch
        {
            (true, true) => CgroupMode.Hybrid,
            (true, false) => CgroupMode.V1,
            (false, true) => CgroupMode.V2,
            _ => CgroupMode.None,
        };
    }

    /// <summary>The process's cgroup in every mounted hierarchy it belongs to.</summary>
    public static IReadOnlyList<ProcessCgroup> Of(int? pid, IReadOnlyList<CgroupHierarchy> hierarchies)
    {
        var result = new List<ProcessCgroup>();
        foreach (ProcCgroupEntry e in Procfs.Cgroups(pid))
        {
            CgroupHierarchy? h = e.HierarchyId == 0
                ? hierarchies.FirstOrDefault(x => x.Version == 2)
                : hierarchies.FirstOrDefault(x => x.Version == 1 && x.Controllers.Count > 0 && x.Controllers.SequenceEqual(e.Controllers.Where(s_v1Controllers.Contains).Order(StringComparer.Ordinal)))
                  ?? hierarchies.FirstOrDefault(x => x.Version == 1 && x.Controllers.Count > 0 && e.Controllers.Intersect(x.Controllers).Any())
                  ?? hierarchies.FirstOrDefault(x => x.Version == 1 && x.Name is not null && e.Controllers.Contains("name=" + x.Name));
            if (h is not null && h.Directory(e.Path) is string dir)
            {
                result.Add(new ProcessCgroup(h, e.Path, dir));
            }
        }
        return result;
    }
}

/// <summary>A process's cgroup in one hierarchy: the path /proc/PID/cgroup prints and its directory in cgroupfs.</summary>
public sealed record ProcessCgroup(CgroupHierarchy Hierarchy, string Path, string Directory);
