using System.Diagnostics;
using System.Globalization;

namespace Kscope.Cli.Tests.Doctor;

/// <summary>
/// doctorhelper.c built once per test run with gcc (the syscall oracle, a seccomp wrapper, a memory hog),
/// and the built `kscope` run as a child process (for what needs another process: capabilities,
/// personality, a terminal).
/// </summary>
internal static class DoctorHelper
{
    private static readonly Lazy<string> s_built = new(Build);

    public static string Exe
    {
        get
        {
            Requires.Tool("gcc", "gcc");
            return s_built.Value;
        }
    }

    private static string Build()
    {
        string dir = TempDirectory.ForProcess("kscope-doctorhelper");
        string exe = Path.Combine(dir, "doctorhelper");
        Tools.Check("gcc", "-O1", "-Wall", "-Werror", "-o", exe, Path.Combine(Tools.RepoRoot, "tests", "Kscope.Cli.Tests", "Doctor", "doctorhelper.c"));
        return exe;
    }

    /// <summary>The errno each probed syscall returned in the helper (0 = success), by doctor's feature name.</summary>
    public static Dictionary<string, int> ProbeSyscalls() =>
        Tools.Check(Exe, "probe").Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' '))
            .ToDictionary(f => f[0], f => int.Parse(f[1], CultureInfo.InvariantCulture));

    /// <summary>The kscope under test: KSCOPE_BIN (the published binary) when set, else this build's apphost.</summary>
    public static string Kscope => KscopeBinary.Path;

    /// <summary>Runs a program (with kscope's path among its arguments) and returns exit code and output.</summary>
    public static (int Code, string Out, string Err) Run(IReadOnlyDictionary<string, string?>? environment, string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }
        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                psi.Environment.Remove(key);
            }
            else
            {
                psi.Environment[key] = value;
            }
        }
        using Process p = Process.Start(psi)!;
        p.StandardInput.Close();
        Task<string> err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(TimeSpan.FromSeconds(60)), $"{file} {string.Join(' ', args)} did not finish");
        return (p.ExitCode, output, err.GetAwaiter().GetResult());
    }
}
