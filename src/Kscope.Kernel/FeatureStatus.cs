namespace Kscope.Kernel;

/// <summary>
/// What a feature probe learned (BPF program/map/helper/attach probes in <c>Bpf.Features</c>, syscall probes in
/// <c>Host.Probes.KernelProbes</c>): three-valued, because a probe that could not run (EPERM, no bpffs) proves
/// nothing. The default is <see cref="Unknown"/>: a value nobody set never claims a feature is there or not.
/// </summary>
public enum FeatureStatus
{
    /// <summary>The probe could not decide (not permitted, or the probe itself needs something missing).</summary>
    Unknown,
    Present,
    Absent,
}
