using Kscope.Formats.Procfs;
using Kscope.Kernel.Host;

namespace Kscope.Diagnostics.Trace;

/// <summary>
/// Turns --pid/--tid/--comm/--uid/--cgroup/--container into a <see cref="TraceFilter"/>: cgroup v2
/// paths become a cgroup id (filtered in the kernel with bpf_get_current_cgroup_id), v1 paths and
/// containers become the set of pids in the cgroup (followed through forks).
/// </summary>
public static class TargetResolver
{
    public sealed record Options(IReadOnlyList<int> Pids, int? Tid, string? Comm, uint? Uid, string? Cgroup, string? Container);

    public static TraceFilter Resolve(Options o)
    {
        var filter = new TraceFilter { Tid = o.Tid, Uid = o.Uid, Comm = o.Comm };
        foreach (int pid in o.Pids)
        {
            if (pid <= 0 || !Directory.Exists($"/proc/{pid}"))
            {
                throw new TraceTargetException($"trace: no process with pid {pid}");
            }
        }
        if (o.Tid is int tid && (tid <= 0 || !Directory.Exists($"/proc/{tid}")))
        {
            throw new TraceTargetException($"trace: no thread with tid {tid}");
        }
        if (o.Comm is { Length: > 15 })
        {
            throw new TraceTargetException($"trace: --comm '{o.Comm}' is longer than the kernel's 15-byte comm; use its first 15 characters");
        }
        if (o.Pids.Count > 0)
        {
            filter = filter with { Pids = new HashSet<int>(o.Pids), FollowChildren = true };
        }
        if (o.Cgroup is not null)
        {
            filter = ForCgroup(filter, o.Cgroup);
        }
        if (o.Container is not null)
        {
            filter = ForContainer(filter, o.Container);
        }
        return filter;
    }

    /// <summary>A cgroup given as a cgroupfs directory or as the path /proc/PID/cgroup prints.</summary>
    public static TraceFilter ForCgroup(TraceFilter filter, string cgroup)
    {
        IReadOnlyList<CgroupHierarchy> hierarchies = Cgroups.Hierarchies(Procfs.MountInfo());
        string? dir = Directory.Exists(cgroup) && cgroup.StartsWith("/sys/fs/cgroup", StringComparison.Ordinal) ? cgroup : null;
        CgroupHierarchy? hierarchy = dir is null ? null : hierarchies.FirstOrDefault(h => dir.StartsWith(h.MountPoint.TrimEnd('/') + "/", StringComparison.Ordinal) || dir == h.MountPoint);
        if (dir is null)
        {
            // A cgroup path: prefer the unified hierarchy, then any v1 hierarchy that has it.
            foreach (CgroupHierarchy h in hierarchies.OrderByDescending(h => h.Version))
            {
                if (h.Directory(cgroup) is string d && Directory.Exists(d))
                {
                    (dir, hierarchy) = (d, h);
                    break;
                }
            }
        }
        if (dir is null || hierarchy is null)
        {
            throw new TraceTargetException($"trace: no cgroup '{cgroup}' in any mounted hierarchy ({string.Join(", ", hierarchies.Select(h => h.MountPoint))})");
        }
        if (hierarchy.Version == 2)
        {
            return filter with { CgroupId = CgroupId(dir), CgroupDirectory = dir };
        }
        return filter with { Pids = Union(filter.Pids, PidsIn(dir)), FollowChildren = true, CgroupDirectory = dir };
    }

    /// <summary>A container id (or a unique prefix of at least 6 characters) found in /proc/*/cgroup.</summary>
    public static TraceFilter ForContainer(TraceFilter filter, string id)
    {
        if (id.Length < 6)
        {
            throw new TraceTargetException("trace: --container needs at least 6 characters of the container id");
        }
        var pids = new HashSet<int>();
        string? path = null;
        foreach (string procDir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(procDir), out int pid))
            {
                continue;
            }
            string? text = Procfs.TryReadText($"{procDir}/cgroup");
            if (text is null || !text.Contains(id, StringComparison.Ordinal))
            {
                continue;
            }
            pids.Add(pid);
            path ??= ProcCgroupEntry.Parse(text, $"{procDir}/cgroup").Select(e => e.Path).FirstOrDefault(p => p.Contains(id, StringComparison.Ordinal));
        }
        if (pids.Count == 0)
        {
            throw new TraceTargetException($"trace: no process belongs to a cgroup naming container '{id}'");
        }
        int first = pids.Min();
        ulong? pidNs = Procfs.Namespaces(first).FirstOrDefault(n => n.Type == "pid").Inode;
        return filter with { Pids = Union(filter.Pids, pids), FollowChildren = true, CgroupDirectory = path, PidNamespace = pidNs };
    }

    /// <summary>The cgroup v2 id: the inode number of its cgroupfs directory (kernfs node id on 64-bit).</summary>
    public static ulong CgroupId(string dir) => Kscope.Native.FileIds.Inode(dir);

    public static IReadOnlySet<int> PidsIn(string cgroupDir)
    {
        var pids = new HashSet<int>();
        string? procs = Procfs.TryReadText(Path.Combine(cgroupDir, "cgroup.procs"));
        foreach (string line in (procs ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (int.TryParse(line, out int pid))
            {
                pids.Add(pid);
            }
        }
        return pids;
    }

    private static HashSet<int> Union(IReadOnlySet<int> a, IReadOnlySet<int> b)
    {
        var result = new HashSet<int>(a);
        result.UnionWith(b);
        return result;
    }
}
