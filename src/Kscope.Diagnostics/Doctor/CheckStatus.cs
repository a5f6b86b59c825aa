namespace Kscope.Diagnostics.Doctor;

/// <summary>A check's verdict. Order matters: the worst status decides doctor's exit code.</summary>
public enum CheckStatus
{
    Ok,
    Skip,
    Warn,
    Fail,
}
