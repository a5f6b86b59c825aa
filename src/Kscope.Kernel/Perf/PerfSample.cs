namespace Kscope.Kernel.Perf;

/// <summary>
/// A decoded PERF_RECORD_SAMPLE: who, when, the period and the raw callchain (with context markers), and
/// the id of the event that took it (PERF_SAMPLE_ID; 0 when not asked for — an inherited event has an id of its own).
/// </summary>
public readonly record struct PerfSample(int Pid, int Tid, ulong Time, ulong Period, ulong[] Callchain, ulong Id = 0);
