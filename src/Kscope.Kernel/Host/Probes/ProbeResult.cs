namespace Kscope.Kernel.Host.Probes;

/// <summary>A probe's outcome and its evidence: the syscall tried and what it returned.</summary>
public sealed record ProbeResult(string Feature, FeatureStatus Status, string Evidence);
