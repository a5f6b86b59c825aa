using Kscope.Formats.Procfs;
using Kscope.Kernel.Host;
using Kscope.Native;

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
            filter = filter with { Pids = new HashSet<int>(o.Pids), FollowChildren = true, EndWith = new HashSet<int>(o.Pids) };
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
        // the processes in it now, and (in the kernel: filter.h follow_cgroup) those attached to it later
        return filter with
        {
            Pids = Union(filter.Pids, PidsIn(dir)), FollowChildren = true, CgroupDirectory = dir,
            CgroupV1Id = CgroupId(dir), CgroupV1Hierarchy = HierarchyId(hierarchy),
        };
    }

    /// <summary>
    /// A container by its id: the full 64 hex digits or a unique prefix of at least 12, as runtimes put ids in cgroup
    /// paths (<see cref="ContainerIds"/>). Its processes now (followed through forks), the cgroup path that names it,
    /// its pid namespace. Anything else is a <see cref="TraceTargetException"/> (a usage error) that lists close
    /// matches; there is no fallback to a wider cgroup.
    /// </summary>
    public static TraceFilter ForContainer(TraceFilter filter, string id)
    {
        ContainerTarget c = FindContainer(id, "trace");
        return filter with { Pids = Union(filter.Pids, c.Pids), FollowChildren = true, CgroupDirectory = c.CgroupPath, PidNamespace = c.PidNamespace };
    }

    /// <summary>The container <paramref name="given"/> names (see <see cref="ForContainer"/>); <paramref name="verb"/> starts the error messages.</summary>
    public static ContainerTarget FindContainer(string given, string verb)
    {
        Dictionary<string, (HashSet<int> Pids, string Path)> containers = ScanContainers();
        string? digits = ContainerIds.Normalize(given);
        if (digits is null)
        {
            throw new TraceTargetException($"{verb}: --container '{given}' is not a container id (hex digits, {ContainerIds.MinimumPrefix} to {ContainerIds.Length} of them){NotAnIdHint(given, containers).Replace(": no process here", "; no process here", StringComparison.Ordinal)}");
        }
        List<string> matches = containers.Keys.Where(k => k.StartsWith(digits, StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        if (digits.Length < ContainerIds.MinimumPrefix)
        {
            throw new TraceTargetException($"{verb}: --container '{given}': give at least {ContainerIds.MinimumPrefix} hex digits of the id (docker ps prints 12, crictl ps 13)" +
                (matches.Count > 0 ? $"; ids starting with '{digits}': {List(matches)}" : Running(containers).Replace(": no process here", "; no process here", StringComparison.Ordinal)));
        }
        if (matches.Count == 0)
        {
            List<string> near = containers.Keys.Where(k => Distance(k[..digits.Length], digits) <= 2).Order(StringComparer.Ordinal).ToList();
            throw new TraceTargetException($"{verb}: no container '{given}'" + (near.Count > 0 ? $"; close: {List(near)}" : Running(containers)));
        }
        if (matches.Count > 1)
        {
            throw new TraceTargetException($"{verb}: --container '{given}' is ambiguous: {List(matches)}; give more digits");
        }
        string full = matches[0];
        (HashSet<int> pids, string path) = containers[full];
        ulong? pidNs = null;
        foreach (int pid in pids.Order())
        {
            try
            {
                pidNs = Procfs.Namespaces(pid).FirstOrDefault(n => n.Type == "pid").Inode;
                break;
            }
            catch (Exception e) when (e is IOException or KernelException)
            {
                // exited since
            }
        }
        return new ContainerTarget(full, pids, path, pidNs);
    }

    /// <summary>
    /// The directory perf can filter <paramref name="container"/> on (PERF_FLAG_PID_CGROUP): the container's cgroup in
    /// the hierarchy that carries perf_event (a v1 perf_event hierarchy when one is mounted, else the unified one). It
    /// must name the container: a process whose perf_event cgroup is a wider one (the root on a host whose runtime put
    /// containers in v1 hierarchies only) cannot be filtered that way, and that is an error, never the wider cgroup.
    /// </summary>
    public static string PerfCgroupOf(ContainerTarget container, string verb)
    {
        IReadOnlyList<CgroupHierarchy> hierarchies = Cgroups.Hierarchies(Procfs.MountInfo());
        CgroupHierarchy perf = PerfHierarchy(hierarchies, verb);
        var seen = new List<string>();
        foreach (int pid in container.Pids.Order())
        {
            IReadOnlyList<ProcessCgroup> cgroups;
            try
            {
                cgroups = Cgroups.Of(pid, hierarchies);
            }
            catch (Exception e) when (e is IOException or KernelException)
            {
                continue; // exited since
            }
            if (cgroups.FirstOrDefault(c => c.Hierarchy.MountPoint == perf.MountPoint) is { } mine)
            {
                if (ContainerIds.In(mine.Path) == container.Id && Directory.Exists(mine.Directory))
                {
                    return mine.Directory;
                }
                seen.Add(mine.Path);
            }
        }
        throw new TraceTargetException($"{verb}: container {container.Id[..ContainerIds.MinimumPrefix]}'s processes are in no {Describe(perf)} cgroup of its own " +
            $"(theirs: {string.Join(", ", seen.Distinct().Take(3).DefaultIfEmpty("none"))}), so perf cannot sample just the container; give --pid {container.Pids.Min()} (its processes: {List(container.Pids.Order().Select(p => p.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList())})");
    }

    /// <summary>
    /// <paramref name="cgroup"/> (a cgroupfs directory of any hierarchy, or a path as /proc/PID/cgroup prints it) as the
    /// directory perf can filter on: itself when it is in the hierarchy that carries perf_event; otherwise (a v1 cpu,
    /// memory… directory) the perf_event (or unified) cgroup of its processes, when they all share one that holds
    /// nothing else. Anything else is a <see cref="TraceTargetException"/> that says what to give instead.
    /// </summary>
    public static string PerfCgroupDirectory(string cgroup, string verb)
    {
        IReadOnlyList<CgroupHierarchy> hierarchies = Cgroups.Hierarchies(Procfs.MountInfo());
        CgroupHierarchy perf = PerfHierarchy(hierarchies, verb);
        (string dir, CgroupHierarchy hierarchy) = Locate(hierarchies, cgroup, verb);
        if (hierarchy.MountPoint == perf.MountPoint)
        {
            return dir;
        }
        if (dir == hierarchy.MountPoint)
        {
            throw new TraceTargetException($"{verb}: {dir} is the root of a cgroup v{hierarchy.Version} hierarchy: every process; use --all");
        }
        HashSet<int> members = PidsUnder(dir);
        string what = $"{dir} is a cgroup v{hierarchy.Version} {(hierarchy.Controllers.Count > 0 ? string.Join(',', hierarchy.Controllers) : hierarchy.Name ?? "")} directory; perf filters on {Describe(perf)} cgroups";
        if (members.Count == 0)
        {
            throw new TraceTargetException($"{verb}: {what}, and it holds no process to map from; give a directory under {perf.MountPoint}");
        }
        var theirs = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        foreach (int pid in members)
        {
            try
            {
                if (Cgroups.Of(pid, hierarchies).FirstOrDefault(c => c.Hierarchy.MountPoint == perf.MountPoint) is { } c)
                {
                    (theirs.TryGetValue(c.Directory, out List<int>? list) ? list : theirs[c.Directory] = []).Add(pid);
                }
            }
            catch (Exception e) when (e is IOException or KernelException)
            {
                // exited since
            }
        }
        string pidList = List(members.Order().Select(p => p.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList());
        if (theirs.Count == 1 && theirs.Keys.Single() is string only && only != perf.MountPoint)
        {
            HashSet<int> inOnly = PidsUnder(only);
            inOnly.ExceptWith(members);
            if (inOnly.Count == 0)
            {
                return only; // the same processes: what perf can filter on
            }
            throw new TraceTargetException($"{verb}: {what}; its processes ({pidList}) are in {only}, which also holds {inOnly.Count} other process(es) (e.g. {inOnly.Min()}); give --pid or a directory under {perf.MountPoint} that holds only them");
        }
        throw new TraceTargetException($"{verb}: {what}; its processes ({pidList}) are in {(theirs.Count == 0 ? "no such cgroup" : string.Join(", ", theirs.Keys.Take(3)))}" +
            $"{(theirs.ContainsKey(perf.MountPoint) ? " (the root: the whole machine)" : "")}; give --pid PID, or a directory under {perf.MountPoint}");
    }

    /// <summary>A v1 hierarchy with perf_event when one is mounted, else the unified one (perf_event is implicit on v2).</summary>
    private static CgroupHierarchy PerfHierarchy(IReadOnlyList<CgroupHierarchy> hierarchies, string verb) =>
        hierarchies.FirstOrDefault(h => h.Version == 1 && h.Has("perf_event")) ?? hierarchies.FirstOrDefault(h => h.Version == 2)
        ?? throw new TraceTargetException($"{verb}: no mounted cgroup hierarchy carries perf_event (mount cgroup2, or a v1 perf_event hierarchy)");

    private static string Describe(CgroupHierarchy h) => h.Version == 2 ? $"unified ({h.MountPoint})" : $"perf_event ({h.MountPoint})";

    /// <summary>A cgroupfs directory, or a cgroup path found under one of the hierarchies (the unified one first).</summary>
    private static (string Directory, CgroupHierarchy Hierarchy) Locate(IReadOnlyList<CgroupHierarchy> hierarchies, string cgroup, string verb)
    {
        string full = cgroup.Length > 1 ? cgroup.TrimEnd('/') : cgroup;
        if (Directory.Exists(full) && hierarchies.OrderByDescending(h => h.MountPoint.Length)
                .FirstOrDefault(h => full == h.MountPoint || full.StartsWith(h.MountPoint.TrimEnd('/') + "/", StringComparison.Ordinal)) is { } owner)
        {
            return (full, owner);
        }
        foreach (CgroupHierarchy h in hierarchies.OrderByDescending(h => h.Version))
        {
            if (cgroup.StartsWith('/') && h.Directory(full) is string d && Directory.Exists(d))
            {
                return (d, h);
            }
        }
        throw new TraceTargetException($"{verb}: no cgroup '{cgroup}' in any mounted hierarchy ({string.Join(", ", hierarchies.Select(h => h.MountPoint))})");
    }

    /// <summary>The processes in a cgroup directory and its descendants (bounded walk).</summary>
    private static HashSet<int> PidsUnder(string dir)
    {
        var pids = new HashSet<int>();
        var todo = new Stack<string>();
        todo.Push(dir);
        for (int visited = 0; todo.Count > 0 && visited < 10_000; visited++)
        {
            string d = todo.Pop();
            pids.UnionWith(PidsIn(d));
            try
            {
                foreach (string child in Directory.EnumerateDirectories(d))
                {
                    todo.Push(child);
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        return pids;
    }

    /// <summary>Every container id named in a cgroup path of a process now: its processes and the first path naming it.</summary>
    private static Dictionary<string, (HashSet<int> Pids, string Path)> ScanContainers()
    {
        var containers = new Dictionary<string, (HashSet<int>, string)>(StringComparer.Ordinal);
        foreach (string procDir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(procDir), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int pid))
            {
                continue;
            }
            string? text = Procfs.TryReadText($"{procDir}/cgroup");
            if (text is null)
            {
                continue;
            }
            IReadOnlyList<ProcCgroupEntry> entries;
            try
            {
                entries = ProcCgroupEntry.Parse(text, $"{procDir}/cgroup");
            }
            catch (Kscope.Formats.MalformedDataException)
            {
                continue;
            }
            foreach (ProcCgroupEntry e in entries)
            {
                if (ContainerIds.In(e.Path) is string id)
                {
                    if (!containers.TryGetValue(id, out (HashSet<int> Pids, string Path) c))
                    {
                        containers[id] = c = ([], e.Path);
                    }
                    c.Pids.Add(pid);
                }
            }
        }
        return containers;
    }

    /// <summary>What a non-id most likely is: a cgroup directory's name, or part of a container's cgroup path.</summary>
    private static string NotAnIdHint(string given, Dictionary<string, (HashSet<int> Pids, string Path)> containers)
    {
        string name = given.Trim().Trim('/');
        if (name.Length > 0)
        {
            List<string> inPaths = containers.Where(c => c.Value.Path.Contains(name, StringComparison.OrdinalIgnoreCase)).Select(c => c.Key).Order(StringComparer.Ordinal).ToList();
            if (inPaths.Count > 0)
            {
                return $"; containers whose cgroup path contains '{name}': {List(inPaths)}";
            }
            IReadOnlyList<CgroupHierarchy> hierarchies = Cgroups.Hierarchies(Procfs.MountInfo());
            if (FindCgroupNamed(hierarchies, name) is string dir)
            {
                return $"; '{name}' is a cgroup: use --cgroup {dir}";
            }
        }
        return Running(containers);
    }

    /// <summary>The first cgroup directory (breadth first, bounded) whose name or path ends with <paramref name="name"/>.</summary>
    private static string? FindCgroupNamed(IReadOnlyList<CgroupHierarchy> hierarchies, string name)
    {
        var queue = new Queue<string>(hierarchies.OrderByDescending(h => h.Version).Select(h => h.MountPoint));
        for (int visited = 0; queue.Count > 0 && visited < 20_000; visited++)
        {
            string d = queue.Dequeue();
            IEnumerable<string> children;
            try
            {
                children = Directory.EnumerateDirectories(d).ToList();
            }
            catch (IOException)
            {
                continue;
            }
            catch (UnauthorizedAccessException)
            {
                continue;
            }
            foreach (string child in children)
            {
                if (Path.GetFileName(child) == name || child.EndsWith("/" + name, StringComparison.Ordinal))
                {
                    return child;
                }
                queue.Enqueue(child);
            }
        }
        return null;
    }

    private static string Running(Dictionary<string, (HashSet<int> Pids, string Path)> containers) =>
        containers.Count == 0 ? ": no process here is in a cgroup named after a container id (as Docker, containerd, CRI-O and podman name them)"
        : $"; containers here: {List(containers.Keys.Order(StringComparer.Ordinal).ToList())}";

    /// <summary>Up to 8 items; container ids by their shortest prefix (12 digits at least) that tells the listed ones apart.</summary>
    private static string List(IReadOnlyList<string> items)
    {
        List<string> ids = items.Take(8).ToList();
        int digits = ContainerIds.MinimumPrefix;
        if (ids.All(i => i.Length == ContainerIds.Length))
        {
            while (digits < ContainerIds.Length && ids.Select(i => i[..digits]).Distinct(StringComparer.Ordinal).Count() < ids.Count)
            {
                digits++;
            }
        }
        IEnumerable<string> shown = ids.Select(i => i.Length == ContainerIds.Length ? i[..digits] : i);
        return string.Join(", ", shown) + (items.Count > 8 ? $" (+{items.Count - 8} more)" : "");
    }

    /// <summary>Levenshtein distance (short strings only: prefixes of ids).</summary>
    private static int Distance(string a, string b)
    {
        int[] previous = new int[b.Length + 1], current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }

    /// <summary>The cgroup v2 id: the inode number of its cgroupfs directory (kernfs node id on 64-bit).</summary>
    public static ulong CgroupId(string dir) => Kscope.Native.FileIds.Inode(dir);

    /// <summary>
    /// The id of a v1 hierarchy (struct cgroup_root.hierarchy_id): the first column of the line of
    /// /proc/self/cgroup whose controllers are the hierarchy's (named ones as "name=X"); 0 when not found.
    /// </summary>
    public static uint HierarchyId(CgroupHierarchy hierarchy)
    {
        string? text = Procfs.TryReadText("/proc/self/cgroup");
        foreach (string line in (text ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] parts = line.Split(':', 3);
            if (parts.Length == 3 && uint.TryParse(parts[0], out uint id) && id != 0
                && (hierarchy.Name is string name ? parts[1].Split(',').Contains($"name={name}")
                    : parts[1].Split(',').Order(StringComparer.Ordinal).SequenceEqual(hierarchy.Controllers.Order(StringComparer.Ordinal))))
            {
                return id;
            }
        }
        return 0;
    }

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
