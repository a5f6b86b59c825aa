namespace Kscope.Diagnostics.Doctor;

/// <summary>
/// Runs doctor's checks (all, or those selected by id / id prefix / section name) in parallel and
/// returns their results in the fixed report order. A check that throws becomes a skip saying why.
/// </summary>
public static class Doctor
{
    public static IReadOnlyList<DoctorCheck> Checks { get; } =
        [.. KernelChecks.All, .. LimitsChecks.All, .. SecurityChecks.All, .. ToolchainChecks.All];

    /// <summary>
    /// The checks a selector names: an exact id ("kernel.btf"), a prefix up to a dot ("kernel.syscall"
    /// selects kernel.syscall.*), or a section name ("security"). Empty when it names nothing.
    /// </summary>
    public static IReadOnlyList<DoctorCheck> Select(string selector)
    {
        string s = selector.Trim().ToLowerInvariant();
        return Checks.Where(c => c.Id == s || c.Id.StartsWith(s + ".", StringComparison.Ordinal) || c.Section.ToString().Equals(s, StringComparison.OrdinalIgnoreCase)).ToList();
    }

    public static IReadOnlyList<CheckResult> Run(DoctorContext context, IReadOnlyCollection<string>? selectors = null)
    {
        IReadOnlyList<DoctorCheck> checks = selectors is null || selectors.Count == 0
            ? Checks
            : Checks.Where(c => selectors.Any(s => Select(s).Contains(c))).ToList();
        var results = new CheckResult[checks.Count];
        // Most checks wait on files, syscalls or child processes, not on the CPU: run them wide.
        Parallel.For(0, checks.Count, new ParallelOptions { MaxDegreeOfParallelism = 16 }, i => results[i] = RunOne(context, checks[i]));
        return results;
    }

    public static CheckResult RunOne(DoctorContext context, DoctorCheck check)
    {
        CheckOutcome outcome;
        try
        {
            outcome = check.Run(context);
        }
        catch (Exception e)
        {
            outcome = CheckOutcome.Skip("could not run", $"{check.Title}: {Flatten(e)}");
        }
        return new CheckResult(check.Id, check.Section, check.Title, outcome.Status, outcome.Value, outcome.Evidence, outcome.Fix);
    }

    /// <summary>The report's overall status: the worst check; skips count as ok (an empty report is ok). Decides the exit code.</summary>
    public static CheckStatus Worst(IEnumerable<CheckResult> results)
    {
        CheckStatus worst = results.Select(r => r.Status).DefaultIfEmpty(CheckStatus.Ok).Max();
        return worst == CheckStatus.Skip ? CheckStatus.Ok : worst;
    }

    private static string Flatten(Exception e) => e is AggregateException { InnerException: Exception inner } ? Flatten(inner) : e.Message;
}
