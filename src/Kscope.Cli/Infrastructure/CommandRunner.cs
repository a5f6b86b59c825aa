using System.Text.RegularExpressions;
using Kscope.Formats;
using Kscope.Native;

namespace Kscope.Cli.Infrastructure;

/// <summary>
/// Runs a command handler and turns anticipated failures into one-line <c>[ERROR] …</c> messages
/// with a distinct exit code and no stack trace (KSCOPE_DEBUG=1 shows the trace).
/// </summary>
public static class CommandRunner
{
    /// <remarks>
    /// Cancellation (Ctrl-C, SIGTERM) is not a failure: a handler stops its work, writes what it promised and returns;
    /// the run then exits <see cref="ExitCodes.Interrupted"/> whatever the handler returned, unless it failed.
    /// </remarks>
    public static async Task<int> RunAsync(IConsole console, Func<CancellationToken, Task<int>> handler, CancellationToken cancellationToken)
    {
        try
        {
            int code = await handler(cancellationToken).ConfigureAwait(false);
            return cancellationToken.IsCancellationRequested && code is ExitCodes.Ok or ExitCodes.Warnings or ExitCodes.Failures ? ExitCodes.Interrupted : code;
        }
        catch (OperationCanceledException e) when (cancellationToken.IsCancellationRequested)
        {
            if (Environment.GetEnvironmentVariable("KSCOPE_DEBUG") == "1")
            {
                console.Error.WriteLine(e.ToString());
            }
            return ExitCodes.Interrupted;
        }
        catch (Exception e) when (Classify(e) is int code)
        {
            ErrorLine.Write(console, Message(e));
            if (Environment.GetEnvironmentVariable("KSCOPE_DEBUG") == "1")
            {
                console.Error.WriteLine(e.ToString());
            }
            return code;
        }
    }

    public static int Run(IConsole console, Func<int> handler) =>
        RunAsync(console, _ => Task.FromResult(handler()), CancellationToken.None).GetAwaiter().GetResult();

    /// <summary>The exit code for an anticipated failure; null lets a bug crash with its stack trace.</summary>
    public static int? Classify(Exception e) => e switch
    {
        CommandException c => c.ExitCode,
        KernelFeatureNotSupportedException => ExitCodes.Unsupported,
        KernelPermissionException => ExitCodes.PermissionDenied,
        KernelException => ExitCodes.Error,
        UsageException => ExitCodes.Usage,
        RegexParseException => ExitCodes.Usage,
        MalformedDataException => ExitCodes.Error,
        UnauthorizedAccessException u when ErrorText.Describe(u)?.Contains("(EACCES)", StringComparison.Ordinal) == true => ExitCodes.PermissionDenied,
        FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException => ExitCodes.Error,
        IOException => ExitCodes.Error,
        _ => null,
    };

    /// <summary>
    /// The one line: kscope's own message, or its words for a runtime exception prefixed with the command
    /// ("symbolize: open /x: no such file (ENOENT)"); usage errors end with the --help to read.
    /// </summary>
    internal static string Message(Exception e)
    {
        string? path = CommandContext.Path;
        string verb = path is null ? "" : CommandLineErrors.Context(path);
        string text = ErrorText.Describe(e) is { } own ? (verb.Length > 0 ? $"{verb}: {own}" : own) : e.Message;
        if (e is UsageException or RegexParseException && path is not null && !text.Contains("--help", StringComparison.Ordinal))
        {
            text += $"; see '{path} --help'";
        }
        return text;
    }
}

/// <summary>A command line that parses but makes no sense ("--pid and --cgroup together").</summary>
public sealed class UsageException(string message) : Exception(message);
