using System.Diagnostics;

namespace Kscope.Diagnostics.Doctor;

/// <summary>Runs a helper program (go, sh, bash…) with a timeout; the child is killed if it overruns.</summary>
public static class ChildProcess
{
    public sealed record Output(int ExitCode, string StandardOutput, string StandardError);

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

    public static Output Run(string file, IEnumerable<string> arguments, TimeSpan? timeout = null)
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
        using Process p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        p.StandardInput.Close();
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout ?? TimeSpan.FromSeconds(10)))
        {
            try
            {
                p.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
            }
            throw new TimeoutException($"{Path.GetFileName(file)} {string.Join(' ', psi.ArgumentList)}: no answer within {(timeout ?? TimeSpan.FromSeconds(10)).TotalSeconds} s");
        }
        return new Output(p.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }
}
