namespace Kscope.Kernel.Host.Probes;

/// <summary>What trying a kernel feature showed: it works, the kernel lacks it, or we could not tell (e.g. EPERM).</summary>
public enum ProbeOutcome
{
    Present,
    Absent,
    Unknown,
}

/// <summary>A probe's outcome and its evidence: the syscall tried and what it returned.</summary>
public sealed record ProbeResult(string Feature, ProbeOutcome Outcome, string Evidence);
