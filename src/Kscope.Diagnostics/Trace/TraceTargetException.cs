namespace Kscope.Diagnostics.Trace;

/// <summary>A target that cannot be resolved (no such pid, cgroup or container): a usage error, not a kernel one.</summary>
public sealed class TraceTargetException(string message) : Exception(message);
