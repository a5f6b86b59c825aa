using System.Diagnostics;

namespace Kscope.TestKit;

/// <summary>
/// The one way tests run the go command: offline and hermetic (GOPATH mode, GOPROXY=off, GO111MODULE=off,
/// GOTOOLCHAIN=local, GOFLAGS empty, HOME and GOPATH under <c>home</c>, the build cache in <c>cache</c>), so a build
/// never reaches the network nor depends on the user's Go settings. Used by <see cref="GoProgram"/> (Debian's go) and
/// the Go corpus of tests/Kscope.Cli.Tests (each downloaded GOROOT).
/// </summary>
public static class GoOffline
{
    /// <summary>
    /// Runs <c>go ARGS</c> in <paramref name="workDir"/> and returns stdout then stderr; a non-zero exit fails the test
    /// with go's stderr. <paramref name="goroot"/> null means the go on PATH with its own GOROOT.
    /// </summary>
    public static string Run(string? goroot, string workDir, string home, string cache, params string[] args)
    {
        var psi = new ProcessStartInfo(goroot is null ? "go" : Path.Combine(goroot, "bin", "go"))
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = workDir,
        };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }
        if (goroot is not null)
        {
            psi.Environment["GOROOT"] = goroot;
        }
        psi.Environment["GOCACHE"] = cache;
        psi.Environment["GOPATH"] = Path.Combine(home, "gopath");
        psi.Environment["GOFLAGS"] = "";
        psi.Environment["GOPROXY"] = "off";
        psi.Environment["GO111MODULE"] = "off";
        psi.Environment["GOTOOLCHAIN"] = "local";
        psi.Environment["HOME"] = home;
        using Process p = Process.Start(psi)!;
        Task<string> err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"go {string.Join(' ', args)} exited {p.ExitCode}: {err.Result}");
        return output + err.Result;
    }
}
