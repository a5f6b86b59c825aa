using Kscope.Native;

namespace Kscope.Diagnostics.Doctor;

/// <summary>Section 4: the toolchains on the host and the environment non-interactive shells give a build.</summary>
public static class ToolchainChecks
{
    /// <summary>Variables whose difference between shells breaks builds.</summary>
    public static readonly string[] ShellVariables = ["PATH", "GOROOT", "GOPATH", "GOPROXY"];

    private static readonly string[] s_goEnv = ["GOROOT", "GOPATH", "GOPROXY", "GOFLAGS", "CGO_ENABLED"];

    public static IReadOnlyList<DoctorCheck> All { get; } =
    [
        new("toolchain.go", DoctorSection.Toolchains, "Go", GoVersion, StartsChildren: true),
        new("toolchain.go.env", DoctorSection.Toolchains, "go env", GoEnv, StartsChildren: true),
        new("toolchain.glibc", DoctorSection.Toolchains, "glibc", Glibc),
        new("toolchain.dotnet", DoctorSection.Toolchains, ".NET", Dotnet),
        new("toolchain.shell_env", DoctorSection.Toolchains, "shell environments", ShellEnvironments, StartsChildren: true),
    ];

    private static CheckOutcome GoVersion(DoctorContext c)
    {
        if (ChildProcess.Which("go") is not string go)
        {
            return CheckOutcome.Skip("not installed", "'go' not on PATH");
        }
        ChildProcess.Output o = ChildProcess.Run(go, ["version"]);
        string text = o.StandardOutput.Trim();
        return o.ExitCode == 0
            ? CheckOutcome.Ok(text.Replace("go version ", "", StringComparison.Ordinal), $"{go} version: {text}")
            : CheckOutcome.Warn("broken", $"{go} version exited {o.ExitCode}: {o.StandardError.Trim()}", "reinstall Go or fix GOROOT");
    }

    private static CheckOutcome GoEnv(DoctorContext c)
    {
        if (ChildProcess.Which("go") is not string go)
        {
            return CheckOutcome.Skip("not installed", "'go' not on PATH");
        }
        ChildProcess.Output o = ChildProcess.Run(go, ["env", .. s_goEnv]);
        if (o.ExitCode != 0)
        {
            return CheckOutcome.Warn("broken", $"{go} env exited {o.ExitCode}: {o.StandardError.Trim()}", "fix the Go installation (GOROOT, go.env)");
        }
        string[] lines = o.StandardOutput.Split('\n');
        string value = string.Join(" ", s_goEnv.Select((name, i) => $"{name}={(i < lines.Length ? lines[i].Trim() : "")}"));
        return CheckOutcome.Ok(value, $"{go} env {string.Join(' ', s_goEnv)}");
    }

    private static CheckOutcome Glibc(DoctorContext c)
    {
        string v = Posix.GlibcVersion();
        return CheckOutcome.Ok(v, $"gnu_get_libc_version() = {v}");
    }

    private static CheckOutcome Dotnet(DoctorContext c)
    {
        string? root = Environment.GetEnvironmentVariable("DOTNET_ROOT");
        string? host = ChildProcess.Which("dotnet");
        string runtime = $"kscope runs on .NET {Environment.Version}";
        string value = $"DOTNET_ROOT={root ?? "(unset)"}; dotnet {(host is null ? "not on PATH" : $"at {host}")}";
        return CheckOutcome.Ok(value, $"environment DOTNET_ROOT, PATH lookup of 'dotnet'; {runtime}");
    }

    private static CheckOutcome ShellEnvironments(DoctorContext c)
    {
        var shells = new List<(string Name, string File, string[] Args)>();
        foreach (var (name, file, args) in new (string, string, string[])[] { ("sh -c", "sh", ["-c", "env"]), ("bash -c", "bash", ["-c", "env"]), ("bash -lc", "bash", ["-lc", "env"]), ("zsh -c", "zsh", ["-c", "env"]) })
        {
            if (ChildProcess.Which(file) is string path)
            {
                shells.Add((name, path, args));
            }
        }
        if (shells.Count == 0)
        {
            return CheckOutcome.Skip("no shells", "neither sh, bash nor zsh on PATH");
        }
        // Started together, waited for together: the check lasts as long as the slowest shell (bash -l).
        Task<ChildProcess.Output>[] running = shells.Select(s => ChildProcess.Start(s.File, s.Args, TimeSpan.FromSeconds(5))).ToArray();
        Dictionary<string, string>[] envs = running.Select(t => ParseEnv(t.GetAwaiter().GetResult().StandardOutput)).ToArray();
        var differences = new List<string>();
        foreach (string variable in ShellVariables)
        {
            var values = shells.Select((s, i) => (s.Name, Value: envs[i].GetValueOrDefault(variable))).ToList();
            if (values.Select(v => v.Value).Distinct().Count() > 1)
            {
                differences.Add($"{variable}: " + string.Join(" | ", values.GroupBy(v => v.Value).Select(g => $"{string.Join(", ", g.Select(x => x.Name))} = {g.Key ?? "(unset)"}")));
            }
        }
        string tried = string.Join(", ", shells.Select(s => $"{s.Name} env"));
        if (differences.Count == 0)
        {
            return CheckOutcome.Ok($"same {string.Join(", ", ShellVariables)} in {shells.Count} shells", $"ran {tried}");
        }
        string changed = string.Join(", ", ShellVariables.Where(v => differences.Any(d => d.StartsWith(v + ":", StringComparison.Ordinal))));
        return CheckOutcome.Warn($"{changed} differ", $"ran {tried}; {string.Join("; ", differences)}",
            "builds started from CI, cron or ssh use a different toolchain than your login shell: set these in /etc/environment or the build's own environment, not only in ~/.profile / ~/.bashrc");
    }

    private static Dictionary<string, string> ParseEnv(string output)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string line in output.Split('\n'))
        {
            int eq = line.IndexOf('=');
            if (eq > 0)
            {
                env.TryAdd(line[..eq], line[(eq + 1)..]);
            }
        }
        return env;
    }
}
