namespace Kscope.Diagnostics.Doctor;

/// <summary>The four sections of doctor's report, in print order.</summary>
public enum DoctorSection
{
    Kernel,
    Limits,
    Security,
    Toolchains,
}
