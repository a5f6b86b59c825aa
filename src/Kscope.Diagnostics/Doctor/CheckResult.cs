namespace Kscope.Diagnostics.Doctor;

/// <summary>
/// One line of doctor's report: a stable id ("kernel.syscall.bpf"), its section, a status, the value
/// found, the evidence (the file read or syscall tried, and what it returned) and how to fix a warn/fail.
/// </summary>
public sealed record CheckResult(string Id, DoctorSection Section, string Title, CheckStatus Status, string Value, string Evidence, string? Fix);

/// <summary>What a check function returns; the runner adds id, section and title.</summary>
public sealed record CheckOutcome(CheckStatus Status, string Value, string Evidence, string? Fix = null)
{
    public static CheckOutcome Ok(string value, string evidence) => new(CheckStatus.Ok, value, evidence);

    public static CheckOutcome Warn(string value, string evidence, string fix) => new(CheckStatus.Warn, value, evidence, fix);

    public static CheckOutcome Fail(string value, string evidence, string fix) => new(CheckStatus.Fail, value, evidence, fix);

    /// <summary>The check could not run; <paramref name="why"/> says why.</summary>
    public static CheckOutcome Skip(string value, string why, string? fix = null) => new(CheckStatus.Skip, value, why, fix);
}

/// <summary>
/// A check: id, section, a short title, and the function that runs it. <paramref name="StartsChildren"/> marks
/// checks that spend their time waiting for child processes: the runner gives each its own thread at once.
/// </summary>
public sealed record DoctorCheck(string Id, DoctorSection Section, string Title, Func<DoctorContext, CheckOutcome> Run, bool StartsChildren = false);
