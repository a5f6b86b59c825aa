using System.Globalization;
using System.Numerics;
using System.Text.Json;
using Kscope.Diagnostics.Doctor;

namespace Kscope.Cli.Tests.Doctor;

/// <summary>
/// `doctor --json` (of this test process) against an independent source per check: bpftool, a C
/// program making the syscalls itself, zcat /proc/config.gz, findmnt, prlimit, sysctl, lscpu, capsh,
/// the securityfs files, go, the shells. Checks compared by other tests are listed in <see cref="s_comparedElsewhere"/>;
/// <see cref="EveryCheck_HasAnOracle"/> keeps the two lists complete.
/// </summary>
[Trait("Category", "Kernel")]
public class DoctorOracleTests
{
    private static readonly Lazy<Dictionary<string, JsonElement>> s_report = new(() =>
    {
        var (_, console) = DoctorCommandTests.Run("--json");
        using JsonDocument report = JsonDocument.Parse(console.OutText);
        return report.RootElement.GetProperty("checks").EnumerateArray().ToDictionary(c => c.GetProperty("id").GetString()!, c => c.Clone());
    });

    private static readonly Lazy<Dictionary<string, int>> s_syscalls = new(DoctorHelper.ProbeSyscalls);

    private static readonly Lazy<Dictionary<string, string>?> s_config = new(ReadConfig);

    /// <summary>Checks whose values other tests compare with an independent source (test named).</summary>
    private static readonly Dictionary<string, string> s_comparedElsewhere = new(StringComparer.Ordinal)
    {
        ["kernel.release"] = "DoctorCommandTests.Json_KernelValues_MatchIndependentSources (uname -r)",
        ["limits.cpus"] = "DoctorCommandTests.Json_KernelValues_MatchIndependentSources (nproc)",
        ["limits.rlimit.nofile"] = "DoctorCommandTests.Json_KernelValues_MatchIndependentSources (ulimit -Sn)",
        ["toolchain.glibc"] = "DoctorCommandTests.Json_KernelValues_MatchIndependentSources (getconf)",
        ["limits.cgroup.paths"] = "DoctorCgroupTests (a cgroup the test created)",
        ["limits.cpu.quota"] = "DoctorCgroupTests (a 0.2 CPU quota the test set)",
        ["limits.cpu.throttling"] = "DoctorCgroupTests (cpu.stat of a throttled burner)",
        ["limits.gomaxprocs"] = "DoctorCgroupTests (a Go binary's own GOMAXPROCS under a 0.5 CPU quota)",
        ["limits.memory"] = "DoctorCgroupTests (memory.limit_in_bytes / memory.max and usage of a memory hog)",
        ["security.aslr.measured"] = "DoctorSecurityTests, DoctorProcessTests (vm.mmap_rnd_bits; setarch -R)",
        ["security.cpu.smep"] = "DoctorSecurityTests.CpuFlags_MatchCpuinfo",
        ["security.cpu.smap"] = "DoctorSecurityTests.CpuFlags_MatchCpuinfo",
        ["security.cpu.umip"] = "DoctorSecurityTests.CpuFlags_MatchCpuinfo",
        ["security.cpu.pku"] = "DoctorSecurityTests.CpuFlags_MatchCpuinfo",
    };

    private static readonly Dictionary<string, Action<string, JsonElement>> s_oracles = BuildOracles();

    public static TheoryData<string> Ids() => [.. s_oracles.Keys.Order(StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(Ids))]
    public void Value_MatchesIndependentSource(string id)
    {
        Requires.Root();
        Assert.True(s_report.Value.TryGetValue(id, out JsonElement check), $"doctor --json has no {id}");
        if (TimedOut(check))
        {
            // Doctor gives each child a limit (10 s; 5 s per shell); under QEMU emulation (tests/kernels, ~15x slower)
            // `go version` and friends, started together, can overrun it, and a login shell can hang on its profile.
            // That outcome is the honest skip with the reason, if it is true: the test runs the same command with the
            // same limit. When it overruns here too, doctor said what is so; when it answers, doctor is asked again for
            // this check alone until it answers, and that answer is compared. A doctor that times out on a command
            // that answers fails here.
            Assert.Equal("skip", check.GetProperty("status").GetString());
            (string[] command, TimeSpan limit) = TimedOutCommand(check);
            if (Overruns(command, limit))
            {
                return;
            }
            check = Poll.Until(() => Single(id), c => !TimedOut(c), $"doctor --check {id} answering within its limit ('{string.Join(' ', command)}' answers within {limit.TotalSeconds} s here)", intervalMs: 1000);
        }
        s_oracles[id](id, check);
    }

    private static bool TimedOut(JsonElement check) =>
        Value(check) == "could not run" && Evidence(check).Contains("no answer within", StringComparison.Ordinal);

    /// <summary>The command and limit of doctor's "TITLE: FILE ARGS: no answer within N s" evidence.</summary>
    private static (string[] Command, TimeSpan Limit) TimedOutCommand(JsonElement check)
    {
        var m = System.Text.RegularExpressions.Regex.Match(Evidence(check), @"([^:]+): no answer within ([0-9.]+) s");
        Assert.True(m.Success, $"unparsable time-out evidence: {Evidence(check)}");
        return (m.Groups[1].Value.Trim().Split(' '), TimeSpan.FromSeconds(double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture)));
    }

    /// <summary>True when <paramref name="command"/>, run here alone, has not exited within <paramref name="limit"/> (it is killed then).</summary>
    private static bool Overruns(string[] command, TimeSpan limit)
    {
        var psi = new System.Diagnostics.ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (string a in command[1..])
        {
            psi.ArgumentList.Add(a);
        }
        using var p = System.Diagnostics.Process.Start(psi)!;
        p.StandardInput.Close();
        using StreamReader stdout = p.StandardOutput, stderr = p.StandardError;
        Task drain = Task.WhenAll(stdout.ReadToEndAsync(), stderr.ReadToEndAsync());
        bool exited = p.WaitForExit(limit);
        if (!exited)
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
        }
        drain.Wait(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        return !exited;
    }

    private static JsonElement Single(string id)
    {
        var (_, console) = DoctorCommandTests.Run("--json", "--check", id);
        using JsonDocument report = JsonDocument.Parse(console.OutText);
        return report.RootElement.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("id").GetString() == id).Clone();
    }

    [Fact]
    public void EveryCheck_HasAnOracle()
    {
        var missing = Kscope.Diagnostics.Doctor.Doctor.Checks.Select(c => c.Id).Where(id => !s_oracles.ContainsKey(id) && !s_comparedElsewhere.ContainsKey(id)).ToList();
        Assert.True(missing.Count == 0, "no independent comparison for: " + string.Join(", ", missing));
        Assert.Empty(s_oracles.Keys.Intersect(s_comparedElsewhere.Keys));
    }

    private static Dictionary<string, Action<string, JsonElement>> BuildOracles()
    {
        var o = new Dictionary<string, Action<string, JsonElement>>(StringComparer.Ordinal)
        {
            ["kernel.syscall.bpf"] = (_, c) =>
            {
                string bpftool = Requires.Tool("bpftool", "bpftool");
                bool available = Tools.Check(bpftool, "feature", "probe", "kernel").Contains("bpf() syscall is available", StringComparison.Ordinal);
                Assert.Equal(available ? "present" : "absent", Value(c));
            },
            ["kernel.btf"] = (_, c) =>
            {
                var info = new FileInfo("/sys/kernel/btf/vmlinux");
                Assert.Equal(info.Exists ? $"present ({info.Length / 1024} KiB)" : "absent", Value(c));
            },
            ["kernel.tracefs"] = (_, c) => AssertMounted("tracefs", c),
            ["kernel.debugfs"] = (_, c) => AssertMounted("debugfs", c),
            ["limits.cgroup.mode"] = (_, c) =>
            {
                // findmnt exits 1 when nothing of that type is mounted (pure v2 in the tests/kernels guests).
                string[] v1 = Lines(Tools.Run("findmnt", "-n", "-l", "-t", "cgroup", "-o", "TARGET").Out);
                string[] v2 = Lines(Tools.Run("findmnt", "-n", "-l", "-t", "cgroup2", "-o", "TARGET").Out);
                string mode = (v1.Length > 0, v2.Length > 0) switch { (true, true) => "hybrid", (true, false) => "v1", (false, true) => "v2", _ => "none" };
                Assert.Equal(mode, Value(c));
                Assert.All(v1.Concat(v2), mount => Assert.Contains(mount + " ", Evidence(c)));
            },
            ["limits.pids"] = (_, c) =>
            {
                ulong? limit = TightestPidsMax();
                Assert.StartsWith(limit is ulong l ? l.ToString(CultureInfo.InvariantCulture) : "none", Value(c));
            },
            ["limits.rlimit.memlock"] = (_, c) =>
            {
                string[] f = Tools.Check("prlimit", "--pid", Environment.ProcessId.ToString(CultureInfo.InvariantCulture), "--memlock", "-o", "SOFT,HARD", "--noheadings", "--raw").Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                Assert.Equal($"soft {f[0]}, hard {f[1]}", Value(c));
            },
            ["limits.vm.max_map_count"] = (_, c) => Assert.Equal(Sysctl("vm.max_map_count"), Value(c)),
            ["limits.numa"] = (_, c) =>
            {
                int dirs = Directory.Exists("/sys/devices/system/node")
                    ? Directory.GetDirectories("/sys/devices/system/node", "node*").Count(d => d[(d.LastIndexOf('/') + 5)..].All(char.IsAsciiDigit))
                    : 1;
                string? lscpu = Lines(Tools.Check("lscpu")).FirstOrDefault(l => l.StartsWith("NUMA node(s):", StringComparison.Ordinal));
                int nodes = lscpu is null ? 1 : int.Parse(lscpu["NUMA node(s):".Length..].Trim(), CultureInfo.InvariantCulture);
                Assert.Equal(dirs, nodes);
                Assert.StartsWith($"{nodes} node{(nodes == 1 ? "" : "s")} (", Value(c));
            },
            ["limits.dotnet_processor_count"] = (_, c) =>
            {
                if (Environment.GetEnvironmentVariable("DOTNET_PROCESSOR_COUNT") is string set)
                {
                    Assert.StartsWith($"DOTNET_PROCESSOR_COUNT={set}", Value(c));
                    return;
                }
                int cpus = int.Parse(Tools.Check("nproc").Trim(), CultureInfo.InvariantCulture);
                string quota = Value(s_report.Value["limits.cpu.quota"]);
                int expected = quota == "none" ? cpus : Math.Min(cpus, (int)Math.Ceiling(double.Parse(quota.Split(' ')[0], CultureInfo.InvariantCulture)));
                Assert.Equal($"unset; Environment.ProcessorCount = {expected}", Value(c));
            },
            ["security.capabilities"] = (_, c) =>
            {
                string capEff = File.ReadLines("/proc/self/status").First(l => l.StartsWith("CapEff:", StringComparison.Ordinal))["CapEff:".Length..].Trim();
                int last = int.Parse(File.ReadAllText("/proc/sys/kernel/cap_last_cap").Trim(), CultureInfo.InvariantCulture);
                List<string> have = DecodeCaps(capEff), all = DecodeCaps(((BigInteger.One << (last + 1)) - 1).ToString("x", CultureInfo.InvariantCulture).TrimStart('0'));
                Assert.Contains($"effective 0x{ulong.Parse(capEff, NumberStyles.HexNumber, CultureInfo.InvariantCulture):x16} = {(have.Count == 0 ? "none" : string.Join(',', have))}", Evidence(c));
                bool Has(string cap) => have.Contains(cap);
                var missing = new[] { ("CAP_BPF", Has("CAP_BPF") || Has("CAP_SYS_ADMIN")), ("CAP_PERFMON", Has("CAP_PERFMON") || Has("CAP_SYS_ADMIN")), ("CAP_SYS_ADMIN", Has("CAP_SYS_ADMIN")), ("CAP_SYS_PTRACE", Has("CAP_SYS_PTRACE")) }
                    .Where(x => !x.Item2).Select(x => x.Item1).ToList();
                List<string> lacks = all.Except(have).ToList();
                Assert.Equal(missing.Count > 0 ? $"missing {string.Join(", ", missing)}" : lacks.Count == 0 ? $"all {have.Count}" : $"{have.Count} (lacks {string.Join(", ", lacks)})", Value(c));
            },
            ["security.lsm"] = (_, c) => Assert.Equal(File.ReadAllText("/sys/kernel/security/lsm").Trim(), Value(c)),
            ["security.selinux"] = (_, c) =>
            {
                string[] selinuxfs = Lines(Tools.Run("findmnt", "-n", "-l", "-t", "selinuxfs", "-o", "TARGET").Out);
                string expected = selinuxfs.Length == 0 ? "disabled" : File.ReadAllText(Path.Combine(selinuxfs[0], "enforce")).Trim() == "1" ? "enforcing" : "permissive";
                Assert.StartsWith(expected, Value(c));
            },
            ["security.apparmor"] = (_, c) =>
            {
                const string Enabled = "/sys/module/apparmor/parameters/enabled";
                if (!File.Exists(Enabled) || File.ReadAllText(Enabled).Trim() != "Y")
                {
                    Assert.Equal("not active", Value(c));
                    return;
                }
                string attr = File.Exists("/proc/self/attr/apparmor/current") ? "/proc/self/attr/apparmor/current" : "/proc/self/attr/current";
                Assert.Equal(File.ReadAllText(attr).TrimEnd('\0', '\n'), Value(c));
            },
            // kscope's own (this process's) modes; DoctorSecurityTests starts children under NoNewPrivs and a filter.
            ["security.seccomp"] = (_, c) => Assert.StartsWith(Status("Seccomp") switch { "0" => "disabled", "1" => "strict", "2" => "filter", _ => "unsupported" }, Value(c)),
            ["security.no_new_privs"] = (_, c) => Assert.Equal(Status("NoNewPrivs") == "1" ? "set" : "not set", Value(c)),
            ["security.lockdown"] = (_, c) =>
            {
                const string Lockdown = "/sys/kernel/security/lockdown";
                string expected = File.Exists(Lockdown) ? File.ReadAllText(Lockdown).Split('[', ']')[1] : "none";
                Assert.Equal(expected, Value(c));
            },
            ["security.yama.ptrace_scope"] = (_, c) =>
            {
                var (code, output, _) = Tools.Run("sysctl", "-n", "kernel.yama.ptrace_scope");
                Assert.StartsWith(code == 0 ? output.Trim() : "yama not active", Value(c));
            },
            ["security.perf_event_paranoid"] = (_, c) => Assert.Equal(Sysctl("kernel.perf_event_paranoid"), Value(c)),
            ["security.kptr_restrict"] = (_, c) => Assert.Equal(Sysctl("kernel.kptr_restrict"), Value(c)),
            ["security.unprivileged_bpf_disabled"] = (_, c) => Assert.StartsWith(Sysctl("kernel.unprivileged_bpf_disabled") + " (", Value(c)),
            ["security.aslr.sysctl"] = (_, c) => Assert.StartsWith(Sysctl("kernel.randomize_va_space") + " (", Value(c)),
            ["security.kaslr"] = (_, c) =>
            {
                bool nokaslr = File.ReadAllText("/proc/cmdline").Split(' ', StringSplitOptions.TrimEntries).Contains("nokaslr");
                string? text = File.ReadLines("/proc/kallsyms").Take(200).FirstOrDefault(l => l.EndsWith(" _text", StringComparison.Ordinal))?.Split(' ')[0];
                string expected = nokaslr || s_config.Value?.GetValueOrDefault("CONFIG_RANDOMIZE_BASE") == "n" ? "disabled"
                    : text == "ffffffff81000000" ? "not in effect"
                    : text is null || text.Trim('0').Length == 0 ? "enabled (address hidden)" : "enabled";
                Assert.Equal(expected, Value(c));
            },
            ["toolchain.go"] = (_, c) =>
            {
                if (Tools.Which("go") is not string go)
                {
                    Assert.Equal("not installed", Value(c));
                    return;
                }
                Assert.Equal(Tools.Check(go, "version").Trim().Replace("go version ", "", StringComparison.Ordinal), Value(c));
            },
            ["toolchain.go.env"] = (_, c) =>
            {
                if (Tools.Which("go") is not string go)
                {
                    Assert.Equal("not installed", Value(c));
                    return;
                }
                string[] names = ["GOROOT", "GOPATH", "GOPROXY", "GOFLAGS", "CGO_ENABLED"];
                string[] lines = Tools.Check(go, ["env", .. names]).Split('\n');
                Assert.Equal(string.Join(" ", names.Select((n, i) => $"{n}={lines[i].Trim()}")), Value(c));
            },
            ["toolchain.dotnet"] = (_, c) =>
            {
                string[] sh = Tools.Check("sh", "-c", "echo \"${DOTNET_ROOT-(unset)}\"; command -v dotnet || echo none").Split('\n');
                string host = sh[1].Trim();
                Assert.Equal($"DOTNET_ROOT={sh[0].Trim()}; dotnet {(host == "none" ? "not on PATH" : $"at {host}")}", Value(c));
            },
            ["toolchain.shell_env"] = (_, c) =>
            {
                var shells = new (string File, string[] Args)[] { ("sh", ["-c", "env"]), ("bash", ["-c", "env"]), ("bash", ["-lc", "env"]), ("zsh", ["-c", "env"]) }
                    .Where(s => Tools.Which(s.File) is not null)
                    .Select(s => Tools.Check(s.File, s.Args).Split('\n').Where(l => l.Contains('=')).GroupBy(l => l[..l.IndexOf('=')]).ToDictionary(g => g.Key, g => g.First()[(g.Key.Length + 1)..]))
                    .ToList();
                string[] differ = ToolchainChecks.ShellVariables.Where(v => shells.Select(env => env.GetValueOrDefault(v)).Distinct().Count() > 1).ToArray();
                Assert.Equal(differ.Length == 0 ? $"same {string.Join(", ", ToolchainChecks.ShellVariables)} in {shells.Count} shells" : $"{string.Join(", ", differ)} differ", Value(c));
            },
        };
        foreach (DoctorCheck check in Kscope.Diagnostics.Doctor.Doctor.Checks)
        {
            if (check.Id.StartsWith("kernel.syscall.", StringComparison.Ordinal) && check.Id != "kernel.syscall.bpf")
            {
                o[check.Id] = (id, c) => Assert.Equal(ExpectedSyscall(id["kernel.syscall.".Length..]), Value(c));
            }
            else if (check.Id.StartsWith("kernel.config.", StringComparison.Ordinal))
            {
                o[check.Id] = (id, c) =>
                {
                    if (s_config.Value is not { } config)
                    {
                        Assert.Equal("unknown", Value(c));
                        return;
                    }
                    string? v = config.GetValueOrDefault("CONFIG_" + id["kernel.config.".Length..].ToUpperInvariant());
                    Assert.Equal(v is null or "n" ? "n" : v, Value(c));
                };
            }
        }
        return o;
    }

    /// <summary>What doctor must say from the errno the C helper's own syscall got (see docs/doctor.md).</summary>
    private static string ExpectedSyscall(string feature)
    {
        const int EPERM = 1, ENOENT = 2, EAGAIN = 11, EACCES = 13, ENODEV = 19, ENOSYS = 38, EOPNOTSUPP = 95;
        Assert.True(s_syscalls.Value.TryGetValue(feature, out int errno), $"doctorhelper probe does not try {feature}");
        return (feature, errno) switch
        {
            (_, 0) => "present",
            (_, ENOSYS) => "absent",
            ("perf_event_open", ENOENT or ENODEV) => "absent",
            ("landlock", EOPNOTSUPP) => "absent",
            ("seccomp", EOPNOTSUPP) or ("getrandom", EAGAIN) => "present",
            (_, EPERM or EACCES) => "could not test",
            _ => $"unexpected errno {errno}",
        };
    }

    private static void AssertMounted(string type, JsonElement c)
    {
        string value = Value(c);
        string at = value.StartsWith("mounted now at ", StringComparison.Ordinal) ? value["mounted now at ".Length..]
            : value.StartsWith("mounted at ", StringComparison.Ordinal) ? value["mounted at ".Length..]
            : throw new Xunit.Sdk.XunitException($"{type}: {value}");
        Assert.Contains(at, Lines(Tools.Check("findmnt", "-n", "-l", "-t", type, "-o", "TARGET")));
    }

    /// <summary>The smallest pids.max on this process's pids cgroup and its ancestors, read with no kscope code; null when none.</summary>
    private static ulong? TightestPidsMax()
    {
        foreach (string line in Lines(Tools.Check("findmnt", "-n", "-l", "-t", "cgroup,cgroup2", "-o", "FSTYPE,TARGET,OPTIONS")))
        {
            string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            bool v2 = f[0] == "cgroup2";
            if (v2 ? !File.ReadAllText(Path.Combine(f[1], "cgroup.controllers")).Split(' ', StringSplitOptions.TrimEntries).Contains("pids") : !f[2].Split(',').Contains("pids"))
            {
                continue;
            }
            string path = File.ReadLines("/proc/self/cgroup").Select(l => l.Split(':', 3)).First(p => v2 ? p[0] == "0" : p[1].Split(',').Contains("pids"))[2];
            ulong? tightest = null;
            for (string dir = f[1] + path.TrimEnd('/'); dir.Length >= f[1].Length; dir = Path.GetDirectoryName(dir)!)
            {
                string max = Path.Combine(dir, "pids.max");
                if (File.Exists(max) && ulong.TryParse(File.ReadAllText(max).Trim(), CultureInfo.InvariantCulture, out ulong n))
                {
                    tightest = Math.Min(tightest ?? ulong.MaxValue, n);
                }
            }
            return tightest;
        }
        return null;
    }

    private static Dictionary<string, string>? ReadConfig()
    {
        string release = Tools.Check("uname", "-r").Trim();
        string? text = File.Exists("/proc/config.gz") ? Tools.Check("zcat", "/proc/config.gz")
            : File.Exists($"/boot/config-{release}") ? File.ReadAllText($"/boot/config-{release}") : null;
        if (text is null)
        {
            return null;
        }
        var config = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string line in Lines(text))
        {
            if (line.StartsWith("CONFIG_", StringComparison.Ordinal) && line.IndexOf('=') is int eq and > 0)
            {
                config[line[..eq]] = line[(eq + 1)..];
            }
            else if (line.StartsWith("# CONFIG_", StringComparison.Ordinal) && line.EndsWith(" is not set", StringComparison.Ordinal))
            {
                config[line[2..^" is not set".Length]] = "n";
            }
        }
        return config;
    }

    private static List<string> DecodeCaps(string hex)
    {
        // capsh --decode=0x...: "0x...=cap_chown,cap_dac_override,..." (capability numbers for names it does not know)
        string decoded = Tools.Check("capsh", $"--decode=0x{hex}").Trim();
        string names = decoded[(decoded.IndexOf('=') + 1)..];
        return names.Length == 0 ? [] : names.Split(',').Select(n => n.ToUpperInvariant()).ToList();
    }

    private static string Sysctl(string name) => Tools.Check("sysctl", "-n", name).Trim();

    private static string Status(string field) => File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith(field + ":", StringComparison.Ordinal))?[(field.Length + 1)..].Trim() ?? "";

    private static string Value(JsonElement c) => c.GetProperty("value").GetString()!;

    private static string Evidence(JsonElement c) => c.GetProperty("evidence").GetString()!;

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
