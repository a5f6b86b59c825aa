using Kscope.Diagnostics.Trace;

namespace Kscope.Diagnostics.Profiling;

/// <summary>What to sample: a process and its threads/children (inherit), a cgroup, or every CPU.</summary>
public sealed record ProfileTarget(int? Pid = null, string? CgroupPath = null, bool All = false)
{
    public override string ToString() => Pid is int p ? $"pid {p}" : CgroupPath is { } c ? $"cgroup {c}" : "all CPUs";

    /// <summary>
    /// A container by id (the full id or a unique prefix of 12+ hex digits, see <see cref="TargetResolver.FindContainer"/>):
    /// the container's own cgroup in the hierarchy that carries perf_event, sampled with PERF_FLAG_PID_CGROUP so
    /// processes it starts later are sampled too. Never a wider cgroup: a container perf cannot filter on is an error.
    /// </summary>
    public static ProfileTarget ForContainer(string id) =>
        new(CgroupPath: TargetResolver.PerfCgroupOf(TargetResolver.FindContainer(id, "profile"), "profile"));

    /// <summary>
    /// A cgroup directory of any hierarchy (v2, or v1 of any controller as doctor shows them) or a /proc/PID/cgroup
    /// path, mapped to the perf_event (or unified) cgroup perf filters on (see <see cref="TargetResolver.PerfCgroupDirectory"/>).
    /// </summary>
    public static ProfileTarget ForCgroup(string cgroup) => new(CgroupPath: TargetResolver.PerfCgroupDirectory(cgroup, "profile"));
}
