namespace Kscope.Kernel.Perf;

/// <summary>A decoded PERF_RECORD_THROTTLE / UNTHROTTLE: the kernel throttled (or resumed) sampling because interrupts took too long.</summary>
public readonly record struct PerfThrottle(bool Throttled, ulong Time, ulong Id, ulong StreamId);
