namespace Kscope.Diagnostics.Profiling;

/// <summary>What to sample: a process and its threads/children (inherit), a cgroup, or every CPU.</summary>
public sealed record ProfileTarget(int? Pid = null, string? CgroupPath = null, bool All = false)
{
    public override string ToString() => Pid is int p ? $"pid {p}" : CgroupPath is { } c ? $"cgroup {c}" : "all CPUs";
}
