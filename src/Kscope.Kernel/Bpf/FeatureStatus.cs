namespace Kscope.Kernel.Bpf;

/// <summary>What a feature probe learned: three-valued, because a probe that could not run (EPERM, no bpffs) proves nothing.</summary>
public enum FeatureStatus
{
    /// <summary>The probe could not decide (not permitted, or the probe itself needs something missing).</summary>
    Unknown,
    Present,
    Absent,
}
