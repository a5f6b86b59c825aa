namespace Kscope.Cli.Infrastructure;

/// <summary>Exit codes scripts can rely on (documented in docs/exit-codes.md).</summary>
public static class ExitCodes
{
    /// <summary>Everything worked; for doctor, every check ok.</summary>
    public const int Ok = 0;

    /// <summary>Completed, with warnings (doctor: at least one warn, no fail).</summary>
    public const int Warnings = 1;

    /// <summary>Completed, with failures (doctor: at least one fail).</summary>
    public const int Failures = 2;

    /// <summary>kscope could not do what was asked (a syscall failed, a file was malformed…).</summary>
    public const int Error = 3;

    /// <summary>Permission denied: needs root or a capability (the message names which).</summary>
    public const int PermissionDenied = 4;

    /// <summary>The running kernel lacks a feature the command needs (the message names it).</summary>
    public const int Unsupported = 5;

    /// <summary>The command line was wrong (EX_USAGE).</summary>
    public const int Usage = 64;

    /// <summary>Interrupted by Ctrl-C / SIGINT (128 + 2), after the command detached and wrote what it promised.</summary>
    public const int Interrupted = 130;

    /// <summary>Stopped by SIGTERM (128 + 15), after the command detached and wrote what it promised.</summary>
    public const int Terminated = 143;
}
