using Kscope.Formats;
using Kscope.Native;

namespace Kscope.Cli.Infrastructure;

/// <summary>
/// Runs a command handler and turns anticipated failures into one-line <c>[ERROR] …</c> messages
/// with a distinct exit code and no stack trace (KSCOPE_DEBUG=1 shows the trace).
/// </summary>
public static class CommandRunner
{
    public static async Task<int> RunAsync(IConsole console, Func<CancellationToken, Task<int>> handler, CancellationToken cancellationToken)
    {
        try
        {
            return await handler(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return ExitCodes.Interrupted;
        }
        catch (Exception e) when (Classify(e) is int code)
        {
            console.Error.WriteLine($"[ERROR] {e.Message}");
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
        KernelFeatureNotSupportedException => ExitCodes.Unsupported,
        KernelPermissionException => ExitCodes.PermissionDenied,
        KernelException => ExitCodes.Error,
        UsageException => ExitCodes.Usage,
        MalformedDataException => ExitCodes.Error,
        FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException => ExitCodes.Error,
        IOException => ExitCodes.Error,
        _ => null,
    };
}

/// <summary>A command line that parses but makes no sense ("--pid and --cgroup together").</summary>
public sealed class UsageException(string message) : Exception(message);
