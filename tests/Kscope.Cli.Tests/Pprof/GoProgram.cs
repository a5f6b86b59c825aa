using System.Diagnostics;

namespace Kscope.Cli.Tests.Pprof;

/// <summary>
/// Builds tests/Kscope.Cli.Tests/Pprof/goprog (standard library only) once per test run with
/// Debian's go, offline: GOPROXY=off, GO111MODULE=off, GOCACHE/GOPATH under a temp dir.
/// </summary>
internal static class GoProgram
{
    private static readonly Lazy<(string Normal, string Stripped)> s_built = new(Build);

    public static string Dir { get; } = Path.Combine(Path.GetTempPath(), $"kscope-goprog-{Environment.ProcessId}");

    /// <summary>The program, built normally.</summary>
    public static string Exe => Get().Normal;

    /// <summary>The program built with -ldflags='-s -w' (no .symtab, no DWARF).</summary>
    public static string Stripped => Get().Stripped;

    public static string Source => Path.Combine(Tools.RepoRoot, "tests", "Kscope.Cli.Tests", "Pprof", "goprog", "main.go");

    private static (string Normal, string Stripped) Get()
    {
        Requires.Tool("go", "golang-go");
        return s_built.Value;
    }

    private static (string, string) Build()
    {
        Directory.CreateDirectory(Dir);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(Dir, recursive: true);
            }
            catch (IOException)
            {
            }
        };
        string normal = Path.Combine(Dir, "prog");
        string stripped = Path.Combine(Dir, "prog-stripped");
        Go("build", "-o", normal, Source);
        Go("build", "-ldflags=-s -w", "-o", stripped, Source);
        return (normal, stripped);
    }

    public static string Go(params string[] args)
    {
        Requires.Tool("go", "golang-go");
        // Callers such as "go tool pprof" may come before the program is built: the working
        // directory must exist on its own (ENOENT from chdir otherwise, reported as "go" missing).
        Directory.CreateDirectory(Dir);
        var psi = new ProcessStartInfo("go") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = Dir };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }
        // A shared cache makes reruns fast; it lives under the temp dir, never in the repository.
        psi.Environment["GOCACHE"] = Path.Combine(Path.GetTempPath(), "kscope-gocache");
        psi.Environment["GOPATH"] = Path.Combine(Dir, "gopath");
        psi.Environment["GOFLAGS"] = "";
        psi.Environment["GOPROXY"] = "off";
        psi.Environment["GO111MODULE"] = "off";
        psi.Environment["GOTOOLCHAIN"] = "local";
        psi.Environment["HOME"] = Dir;
        using Process p = Process.Start(psi)!;
        Task<string> err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"go {string.Join(' ', args)} exited {p.ExitCode}: {err.Result}");
        return output + err.Result;
    }

    /// <summary>Runs the program to completion with arguments (in <see cref="Dir"/>).</summary>
    public static void Run(params string[] args)
    {
        var (code, _, err) = Tools.RunIn(Dir, Exe, args);
        Assert.True(code == 0, $"prog {string.Join(' ', args)} exited {code}: {err}");
    }

    /// <summary>Starts "prog -serve" and returns it with its 127.0.0.1:PORT.</summary>
    public static (Process Process, string Address) Serve()
    {
        var psi = new ProcessStartInfo(Exe, "-serve") { RedirectStandardOutput = true, UseShellExecute = false };
        Process p = Process.Start(psi)!;
        string? line = p.StandardOutput.ReadLine();
        Assert.True(line is not null && line.StartsWith("listening ", StringComparison.Ordinal), $"prog -serve printed '{line}'");
        return (p, line!["listening ".Length..]);
    }
}
