namespace Kscope.Kernel.Bpf;

using Kscope.Native;

/// <summary>
/// The verifier rejected a program. The message shows the program, the errno, the source line the
/// verifier stopped at (from BTF line info, which the kernel interleaves into the log as "; …" lines)
/// and the last lines of the log; <see cref="Log"/> has the whole log.
/// </summary>
public sealed class VerifierException : KernelException
{
    private const int TailLines = 12;

    public VerifierException(string program, Errno errno, string log, bool truncated)
        : base($"load program '{program}'", errno, Describe(log, truncated))
    {
        Program = program;
        Log = log;
        Truncated = truncated;
        SourceLine = LastSourceLine(log);
    }

    public string Program { get; }

    /// <summary>The full verifier log.</summary>
    public string Log { get; }

    /// <summary>The log did not fit even the largest buffer tried.</summary>
    public bool Truncated { get; }

    /// <summary>The last source line the log mentions ("; return *p; @ prog.c:12"), when the program had line info.</summary>
    public string? SourceLine { get; }

    /// <summary>The last <paramref name="lines"/> non-empty lines of the log.</summary>
    public string Tail(int lines = TailLines)
    {
        string[] all = Log.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
    }

    private static string Describe(string log, bool truncated)
    {
        string[] all = log.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        string tail = string.Join("\n  ", all.Skip(Math.Max(0, all.Length - TailLines)));
        string? source = LastSourceLine(log);
        string head = "the verifier rejected it";
        if (source is not null)
        {
            head += $" at source line: {source}";
        }
        return $"{head}{(truncated ? " (log truncated)" : "")}\n  {tail}";
    }

    private static string? LastSourceLine(string log)
    {
        string? last = null;
        foreach (string line in log.Split('\n'))
        {
            if (line.StartsWith("; ", StringComparison.Ordinal))
            {
                last = line[2..].Trim();
            }
        }
        return last;
    }
}
