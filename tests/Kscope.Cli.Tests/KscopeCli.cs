using System.Diagnostics;
using Kscope.Cli.Infrastructure;

namespace Kscope.Cli.Tests;

/// <summary>
/// Runs <c>kscope ARGS</c> for a test: in process through <see cref="Program.Run"/> on the test's
/// <see cref="StringConsole"/> (the default), or, when <c>KSCOPE_BIN</c> names an executable, as that process
/// (stdin empty, stdout and stderr copied into the console afterwards). CI runs this project twice, the second time
/// with KSCOPE_BIN set to the published Native AOT binary, so every command test also tests what users get.
/// </summary>
/// <remarks>
/// A test that by nature needs kscope inside the test process (it counts the test process's fds, inspects the
/// command tree, or needs a console that is a terminal) calls <see cref="Program"/> directly and its class or
/// method carries <c>[Trait(KscopeCli.Mode, KscopeCli.InProcess)]</c>; so does a class that never runs kscope as a
/// command (it tests library types). CI's KSCOPE_BIN pass leaves those out (<c>--filter Mode!=InProcess</c>).
/// </remarks>
internal static class KscopeCli
{
    public const string Mode = "Mode";
    public const string InProcess = "InProcess";

    /// <summary>The binary the tests run instead of the in-process command tree, or null (in process).</summary>
    public static string? Binary { get; } = KscopeBinary.FromEnvironment;

    /// <summary>A command that runs longer than this is killed and fails its test (in process it would hang it).</summary>
    private static readonly TimeSpan s_limit = TimeSpan.FromMinutes(10);

    /// <summary>Runs kscope with <paramref name="args"/>; output goes to <paramref name="console"/>; returns the exit code.</summary>
    public static int Invoke(StringConsole console, params string[] args) =>
        Binary is null ? Program.Run(console, args) : RunBinary(Binary, console, args, CancellationToken.None).GetAwaiter().GetResult();

    /// <summary>
    /// <see cref="Invoke(StringConsole, string[])"/> that lets the test act while kscope runs (e.g. make the activity
    /// a trace should see). In process it runs on the thread pool.
    /// </summary>
    public static Task<int> InvokeAsync(StringConsole console, string[] args, CancellationToken cancellationToken = default) =>
        Binary is null ? Task.Run(() => Program.Run(console, args), cancellationToken) : RunBinary(Binary, console, args, cancellationToken);

    /// <summary>Runs kscope on a fresh console; returns the exit code and the console.</summary>
    public static (int Code, StringConsole Console) Run(params string[] args)
    {
        var console = new StringConsole();
        return (Invoke(console, args), console);
    }

    private static async Task<int> RunBinary(string binary, StringConsole console, string[] args, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(binary)
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {binary}");
        process.StandardInput.Close();
        Task<string> stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        Task<string> stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(s_limit);
        try
        {
            await process.WaitForExitAsync(limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            console.Out.Write(await stdout.ConfigureAwait(false));
            console.Error.Write(await stderr.ConfigureAwait(false));
            cancellationToken.ThrowIfCancellationRequested();
            throw new TimeoutException($"{binary} {string.Join(' ', args)} ran longer than {s_limit.TotalMinutes:0} minutes; killed. stderr: {console.ErrorText}");
        }
        console.Out.Write(await stdout.ConfigureAwait(false));
        console.Error.Write(await stderr.ConfigureAwait(false));
        return process.ExitCode;
    }
}
