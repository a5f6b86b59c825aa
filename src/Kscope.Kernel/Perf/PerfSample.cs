namespace Kscope.Kernel.Perf;

/// <summary>A decoded PERF_RECORD_SAMPLE: who, when, the period and the raw callchain (with context markers).</summary>
public readonly record struct PerfSample(int Pid, int Tid, ulong Time, ulong Period, ulong[] Callchain);
