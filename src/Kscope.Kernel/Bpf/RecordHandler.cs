namespace Kscope.Kernel.Bpf;

/// <summary>Receives one ring or perf buffer record; <paramref name="data"/> points into the mapped ring and is valid only during the call.</summary>
public delegate void RecordHandler(int cpu, ReadOnlySpan<byte> data);
