using System.Diagnostics;

namespace Kscope.TestKit;

/// <summary>
/// Builds tests/Kscope.TestKit/goprog (standard library only) once per test run with
/// Debian's go, offline: GOPROXY=off, GO111MODULE=off, GOCACHE/GOPATH under a temp dir.
/// </summary>
internal static class GoProgram
{
    private static readonly Lazy<(string Normal, string Stripped)> s_built = new(Build);

    public static string Dir { get; } = TempDirectory.ForProcess("kscope-goprog");

    /// <summary>The program, built normally.</summary>
    public static string Exe => Get().Normal;

    /// <summary>The program built with -ldflags='-s -w' (no .symtab, no DWARF).</summary>
    public static string Stripped => Get().Stripped;

    public static string Source => Path.Combine(Tools.RepoRoot, "tests", "Kscope.TestKit", "goprog", "main.go");

    private static (string Normal, string Stripped) Get()
    {
        Requires.Tool("go", "golang-go");
        return s_built.Value;
    }

    private static (string, string) Build()
    {
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
        // A shared cache makes reruns fast; it lives under the temp dir, never in the repository.
        return GoOffline.Run(null, Dir, Dir, Path.Combine(Path.GetTempPath(), "kscope-gocache"), args);
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
