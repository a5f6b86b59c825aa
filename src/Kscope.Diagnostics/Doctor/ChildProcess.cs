using System.Diagnostics;

namespace Kscope.Diagnostics.Doctor;

/// <summary>
/// Runs helper programs (go, sh, bash, cat…) with a timeout; a child that overruns is killed. <see cref="Start"/>
/// returns at once with the child running, so a caller starts all its children before waiting for any.
/// </summary>
public static class ChildProcess
{
    public sealed record Output(int ExitCode, string StandardOutput, string StandardError);

    private static readonly TimeSpan s_defaultTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Finds <paramref name="name"/> on PATH; null when not installed.</summary>
    public static string? Which(string name)
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }

    /// <summary>Runs to completion (or the timeout) and returns exit code and output.</summary>
    public static Output Run(string file, IEnumerable<string> arguments, TimeSpan? timeout = null) =>
        Start(file, arguments, timeout).GetAwaiter().GetResult();

    /// <summary>
    /// Starts the child now (fork and exec happen before this returns) and completes when it has exited and
    /// both its outputs are read; no thread waits meanwhile. Throws <see cref="TimeoutException"/> after killing an overrunning child.
    /// </summary>
    public static Task<Output> Start(string file, IEnumerable<string> arguments, TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (string a in arguments)
        {
            psi.ArgumentList.Add(a);
        }
        Process p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        p.StandardInput.Close();
        return Complete(p, psi, timeout ?? s_defaultTimeout);
    }

    private static async Task<Output> Complete(Process p, ProcessStartInfo psi, TimeSpan timeout)
    {
        using (p)
        {
            Task<string> stdout = p.StandardOutput.ReadToEndAsync();
            Task<string> stderr = p.StandardError.ReadToEndAsync();
            using var cts = new CancellationTokenSource(timeout);
            try
            {
                await p.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                try
                {
                    p.Kill(entireProcessTree: true);
                }
                catch (InvalidOperationException)
                {
                }
                throw new TimeoutException($"{Path.GetFileName(psi.FileName)} {string.Join(' ', psi.ArgumentList)}: no answer within {timeout.TotalSeconds} s");
            }
            return new Output(p.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
        }
    }
}
