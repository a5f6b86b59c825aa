using System.Diagnostics;

namespace Kscope.TestKit;

/// <summary>Runs reference tools (bpftool, pahole, uname…) as oracles for differential tests.</summary>
public static class Tools
{
    public static string? Which(string name)
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin").Split(':'))
        {
            string candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        foreach (string dir in new[] { "/usr/sbin", "/sbin" })
        {
            string candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }

    /// <summary>Runs a program to completion; returns exit code, stdout, stderr.</summary>
    public static (int ExitCode, string Out, string Err) Run(string file, params string[] args) => RunIn(null, file, args);

    public static (int ExitCode, string Out, string Err) RunIn(string? workingDirectory, string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (workingDirectory is not null)
        {
            psi.WorkingDirectory = workingDirectory;
        }
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using Process p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        // Process.Dispose does not close redirected streams read synchronously: their pipes would wait for a finalizer.
        using StreamReader stdout = p.StandardOutput, stderr = p.StandardError;
        Task<string> err = stderr.ReadToEndAsync();
        string output = stdout.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output, err.GetAwaiter().GetResult());
    }

    /// <summary>Runs and asserts exit code 0; returns stdout.</summary>
    public static string Check(string file, params string[] args)
    {
        var (code, output, err) = Run(file, args);
        Assert.True(code == 0, $"{file} {string.Join(' ', args)} exited {code}: {err}");
        return output;
    }

    /// <summary>The repository root (the folder holding kscope.slnx).</summary>
    public static string RepoRoot
    {
        get
        {
            string? dir = AppContext.BaseDirectory;
            while (dir is not null && !File.Exists(Path.Combine(dir, "kscope.slnx")))
            {
                dir = Path.GetDirectoryName(dir);
            }
            return dir ?? throw new InvalidOperationException("kscope.slnx not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>../shared/testdata relative to the repository root.</summary>
    public static string SharedTestData => Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "testdata"));
}
