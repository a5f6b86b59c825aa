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
        // The checks that wait for children (10 ASLR samples, go version, go env, 4 shells) start first,
        // each on its own thread, so every child runs from the start and together: on the thread pool they
        // would queue behind its few threads (two on a 2-CPU machine) and wait for each other.
        var waiting = new List<Thread>();
        for (int i = 0; i < checks.Count; i++)
        {
            if (checks[i].StartsChildren)
            {
                int index = i;
                var thread = new Thread(() => results[index] = RunOne(context, checks[index])) { IsBackground = true, Name = checks[i].Id };
                thread.Start();
                waiting.Add(thread);
            }
        }
        // The rest read files and try syscalls: run them wide meanwhile.
        Parallel.For(0, checks.Count, new ParallelOptions { MaxDegreeOfParallelism = 16 }, i =>
        {
            if (!checks[i].StartsChildren)
            {
                results[i] = RunOne(context, checks[i]);
            }
        });
        foreach (Thread t in waiting)
        {
            t.Join();
        }
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
