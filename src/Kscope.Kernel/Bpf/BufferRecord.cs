namespace Kscope.Kernel.Bpf;

/// <summary>A record copied out of a ring buffer (Cpu -1) or perf buffer (the CPU that wrote it).</summary>
public readonly record struct BufferRecord(int Cpu, byte[] Data);
