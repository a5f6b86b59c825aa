namespace Kscope.TestKit;

/// <summary>What a <see cref="KernelProbe"/> found.</summary>
public enum ProbeVerdict
{
    /// <summary>The machine has the feature (after the probe set up what a test environment may lack).</summary>
    Present,

    /// <summary>The machine cannot provide it: the only outcome a test may skip for.</summary>
    Absent,

    /// <summary>The probe could not decide (not root, a tool missing): an unmet precondition, never a skip under KSCOPE_STRICT=1.</summary>
    CouldNotTest,
}

/// <summary>One probe's verdict with the evidence it rests on (files read, errno, config lines).</summary>
public sealed record ProbeFinding(KernelProbe Probe, ProbeVerdict Verdict, string Evidence)
{
    /// <summary>The skip reason .ci/check-skips accepts: "kernel lacks NAME: evidence".</summary>
    public string SkipReason => $"{Requires.KernelLacksPrefix}{Probe}: {Evidence}";

    public override string ToString() => $"{Probe}: {Verdict} ({Evidence})";
}
