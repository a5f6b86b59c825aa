using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace Kscope.TestKit;

/// <summary>
/// Builds a standard-library-only Go program with Debian's go (golang-go), offline (GOPROXY=off,
/// GO111MODULE=off, GOTOOLCHAIN=local, CGO_ENABLED=0), once per content: the output is cached under
/// the temp directory by the hash of the source, the go version and the build flags, so every test
/// process (and every rerun) reuses it. Concurrent builders each build to a private name and rename
/// into place (atomic), so a half-written binary is never run.
/// </summary>
public static class GoBuild
{
    private static readonly object s_lock = new();

    /// <summary>The folder holding every cached build.</summary>
    public static string CacheRoot => Path.Combine(Path.GetTempPath(), "kscope-testkit-go");

    /// <summary>
    /// The path of <paramref name="source"/> (a main.go) built with <paramref name="flags"/> (e.g.
    /// "-buildmode=pie"), building it when this content was never built. Skips (fails under
    /// KSCOPE_STRICT=1) when go is not installed.
    /// </summary>
    public static string Build(string source, params string[] flags)
    {
        string go = Requires.Tool("go", "golang-go");
        string version = Run(go, Path.GetTempPath(), "version").Trim();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(File.ReadAllBytes(source));
        hash.AppendData(Encoding.UTF8.GetBytes(version + "\n" + string.Join(' ', flags)));
        string key = Convert.ToHexStringLower(hash.GetHashAndReset())[..16];
        string name = Path.GetFileName(Path.GetDirectoryName(source)) ?? "prog";
        string dir = Path.Combine(CacheRoot, key);
        string exe = Path.Combine(dir, name);
        lock (s_lock)
        {
            if (File.Exists(exe))
            {
                return exe;
            }
            Directory.CreateDirectory(dir);
            string partial = Path.Combine(dir, $".{name}.{Environment.ProcessId}.{Guid.NewGuid():N}");
            try
            {
                Run(go, dir, ["build", .. flags, "-o", partial, source]);
                File.Move(partial, exe, overwrite: true);
            }
            finally
            {
                File.Delete(partial);
            }
            return exe;
        }
    }

    private static string Run(string go, string dir, params string[] args)
    {
        var psi = new ProcessStartInfo(go) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = dir };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }
        // The Go build cache is shared with the other Go-building tests; never inside the repository.
        string home = Path.Combine(CacheRoot, "home");
        Directory.CreateDirectory(home);
        psi.Environment["GOCACHE"] = Path.Combine(Path.GetTempPath(), "kscope-gocache");
        psi.Environment["GOPATH"] = Path.Combine(home, "gopath");
        psi.Environment["HOME"] = home;
        psi.Environment["GOFLAGS"] = "";
        psi.Environment["GOPROXY"] = "off";
        psi.Environment["GO111MODULE"] = "off";
        psi.Environment["GOTOOLCHAIN"] = "local";
        psi.Environment["CGO_ENABLED"] = "0";
        using Process p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {go}");
        Task<string> err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"go {string.Join(' ', args)} exited {p.ExitCode}: {err.Result}");
        return output;
    }
}
