namespace Kscope.Diagnostics.Trace;

/// <summary>A container found by id: its full id, its processes when it was looked up, the cgroup path that names it, its pid namespace.</summary>
public sealed record ContainerTarget(string Id, IReadOnlySet<int> Pids, string CgroupPath, ulong? PidNamespace);
