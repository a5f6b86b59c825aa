namespace Kscope.Kernel.Perf;

/// <summary>A decoded PERF_RECORD_LOST: <paramref name="Lost"/> records dropped because the ring was full.</summary>
public readonly record struct PerfLost(ulong Id, ulong Lost);
