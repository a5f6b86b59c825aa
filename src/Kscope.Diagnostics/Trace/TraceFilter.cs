namespace Kscope.Diagnostics.Trace;

/// <summary>
/// The in-kernel filter of a trace (bpf/gadgets/filter.h): set as .rodata before load, plus the pid
/// set map. Empty means the whole system.
/// </summary>
public sealed record TraceFilter
{
    /// <summary>Processes (tgids) to trace; with <see cref="FollowChildren"/> their children join.</summary>
    public IReadOnlySet<int> Pids { get; init; } = new HashSet<int>();

    public bool FollowChildren { get; init; }

    public int? Tid { get; init; }

    public uint? Uid { get; init; }

    /// <summary>Exact comm (at most 15 bytes; the kernel truncates longer names).</summary>
    public string? Comm { get; init; }

    /// <summary>cgroup v2 id (the inode number of the cgroup's directory on the unified hierarchy).</summary>
    public ulong? CgroupId { get; init; }

    /// <summary>The cgroup directory the filter came from (for cpu-throttle and messages).</summary>
    public string? CgroupDirectory { get; init; }

    /// <summary>
    /// A cgroup v1 directory's kernfs id (its inode) and its hierarchy's id (/proc/self/cgroup): processes
    /// attached to it after the start join the pid set, and leave it when moved elsewhere in the hierarchy.
    /// </summary>
    public ulong? CgroupV1Id { get; init; }

    public uint CgroupV1Hierarchy { get; init; }

    /// <summary>Processes (--pid) whose exit ends the trace once all of them are gone.</summary>
    public IReadOnlySet<int> EndWith { get; init; } = new HashSet<int>();

    /// <summary>Pid namespace of the target (container), when it differs from kscope's.</summary>
    public ulong? PidNamespace { get; init; }

    public bool FiltersPids => Pids.Count > 0 || FollowChildren;

    public bool IsEmpty => !FiltersPids && Tid is null && Uid is null && Comm is null && CgroupId is null;

    /// <summary>The .rodata values of filter.h, by variable name.</summary>
    public IReadOnlyDictionary<string, object> RodataValues()
    {
        var values = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["filter_pids"] = (byte)(FiltersPids ? 1 : 0),
            ["follow_children"] = (byte)(FollowChildren ? 1 : 0),
            ["filter_tid"] = (uint)(Tid ?? 0),
            ["filter_uid_on"] = (byte)(Uid is null ? 0 : 1),
            ["filter_uid"] = Uid ?? 0,
            ["filter_cgroup"] = CgroupId ?? 0,
            ["filter_comm_on"] = (byte)(Comm is null ? 0 : 1),
            ["filter_v1_cgroup"] = CgroupV1Id ?? 0,
            ["filter_v1_hierarchy"] = CgroupV1Hierarchy,
        };
        byte[] comm = new byte[16];
        if (Comm is not null)
        {
            System.Text.Encoding.UTF8.GetBytes(Comm.AsSpan(0, Math.Min(Comm.Length, 15)), comm);
        }
        values["filter_comm"] = comm;
        return values;
    }

    /// <summary>A one-line description for the banner: "pid 42 (+children), uid 1000".</summary>
    public string Describe()
    {
        var parts = new List<string>();
        if (Pids.Count > 0)
        {
            parts.Add($"pid {string.Join(',', Pids.Order().Take(8))}{(Pids.Count > 8 ? $" (+{Pids.Count - 8} more)" : "")}{(FollowChildren ? " and children" : "")}");
        }
        if (Tid is int tid) { parts.Add($"tid {tid}"); }
        if (Uid is uint uid) { parts.Add($"uid {uid}"); }
        if (Comm is not null) { parts.Add($"comm {Comm}"); }
        if (CgroupId is ulong id) { parts.Add($"cgroup {CgroupDirectory} (id {id})"); }
        return parts.Count == 0 ? "all processes" : string.Join(", ", parts);
    }
}
