using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Kscope.Cli.Infrastructure;
using Kscope.Kernel.Host;

namespace Kscope.Cli.Tests.Doctor;

/// <summary>
/// End to end on the real cgroup hierarchy that holds the cpu controller (v1 on this hybrid machine,
/// v2 where the cpu controller is there): a child cgroup with a 0.2-CPU quota, a CPU-burning child
/// moved in, and `doctor --pid` reporting the quota, the CPUs, the rising throttling and GOMAXPROCS.
/// </summary>
[Trait("Category", "Kernel")]
public class DoctorCgroupTests
{
    [Fact]
    public void DoctorPid_BurnerUnderPointTwoCpuQuota_ReportsQuotaAndRisingThrottling()
    {
        using TempCgroup cg = TempCgroup.Create("cpu");
        Process? burner = null;
        try
        {
            // 0.2 CPUs as 1 ms per 5 ms period: any scheduler slice exceeds 1 ms, so the burner is throttled in the
            // periods it runs at all, however loaded the host (with 20 ms per 100 ms a burner starved below 0.2 CPUs never was).
            if (cg.V2)
            {
                cg.Write("cpu.max", "1000 5000");
            }
            else
            {
                cg.Write("cpu.cfs_period_us", "5000");
                cg.Write("cpu.cfs_quota_us", "1000");
            }
            var psi = new ProcessStartInfo("sh") { UseShellExecute = false };
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add("while :; do :; done");
            psi.Environment["GOMAXPROCS"] = "8";
            burner = Process.Start(psi)!;
            int pid = burner.Id;

            // Before it moves in: the empty cgroup was never throttled.
            Assert.Equal("0", cg.Read("cpu.stat").Split('\n').First(l => l.StartsWith("nr_throttled", StringComparison.Ordinal)).Split(' ')[1]);

            cg.Add(pid);
            CpuThrottling first = Poll.Until(() => CgroupLimits.Read(pid).Throttling!, t => t.Periods > 0 && t.ThrottledPeriods > 0, "the burner at 0.2 CPU throttled");
            var (code, console) = DoctorCommandTests.Run("--pid", pid.ToString(CultureInfo.InvariantCulture), "--json", "--check", "limits");
            // periods and time both: v1 counts a throttled period when it starts and adds its time when it ends
            CgroupLimits later = Poll.Until(() => CgroupLimits.Read(pid),
                l => l.Throttling!.ThrottledPeriods > first.ThrottledPeriods && l.Throttling.ThrottledMicroseconds > first.ThrottledMicroseconds,
                "throttled periods and time rising");

            // Host API: quota 0.2 from our cgroup, throttling rising.
            Assert.Equal(0.2, later.CpuQuota!.Value.Cpus!.Value, 6);
            Assert.StartsWith(cg.Dir, later.CpuQuota.Source);
            Assert.True(later.Throttling!.ThrottledMicroseconds > first.ThrottledMicroseconds);
            Assert.True(later.Throttling.ThrottledShare > 0.01, $"doctor warns above 1% throttled periods: {later.Throttling}");

            // doctor --pid: the same facts, as a user reads them.
            using JsonDocument report = JsonDocument.Parse(console.OutText);
            var checks = report.RootElement.GetProperty("checks").EnumerateArray().ToDictionary(c => c.GetProperty("id").GetString()!);
            Assert.Equal(pid, report.RootElement.GetProperty("target").GetProperty("pid").GetInt32());
            Assert.Equal("0.2 CPUs", checks["limits.cpu.quota"].GetProperty("value").GetString());
            Assert.Contains(cg.Dir, checks["limits.cpu.quota"].GetProperty("evidence").GetString());
            Assert.StartsWith(Tools.Check("nproc").Trim() + " ", checks["limits.cpus"].GetProperty("value").GetString());
            Assert.Equal("warn", checks["limits.cpu.throttling"].GetProperty("status").GetString());
            Assert.Contains("nr_throttled", checks["limits.cpu.throttling"].GetProperty("evidence").GetString());
            Assert.Equal("warn", checks["limits.gomaxprocs"].GetProperty("status").GetString());
            Assert.Equal("GOMAXPROCS=8 > quota 0.2 CPUs", checks["limits.gomaxprocs"].GetProperty("value").GetString());
            Assert.Equal("set GOMAXPROCS=1 or raise the limit", checks["limits.gomaxprocs"].GetProperty("fix").GetString());
            Assert.Contains(Path.GetFileName(cg.Dir), checks["limits.cgroup.paths"].GetProperty("value").GetString());
            Assert.Equal(ExitCodes.Warnings, code);
        }
        finally
        {
            if (burner is not null)
            {
                burner.Kill();
                burner.WaitForExit();
                burner.Dispose();
            }
        }
    }

    [Fact]
    public void DoctorPid_HogUnderMemoryLimit_ReportsLimitAndUsageOfItsCgroup()
    {
        Requires.Root();
        using TempCgroup cg = TempCgroup.Create("memory");
        cg.Write(cg.V2 ? "memory.max" : "memory.limit_in_bytes", (64 << 20).ToString(CultureInfo.InvariantCulture));
        string usageFile = cg.V2 ? "memory.current" : "memory.usage_in_bytes";
        // The shell moves itself in, then execs the hog: its 16 MiB are charged to the new cgroup.
        using Process hog = StartShell(cg.Enter($"exec {DoctorHelper.Exe} hog 16"), redirect: true);
        try
        {
            Assert.Equal("ready", hog.StandardOutput.ReadLine());
            ulong before = cg.ReadNumber(usageFile);
            JsonElement check = Doctor(hog.Id, "limits.memory")["limits.memory"];
            ulong after = cg.ReadNumber(usageFile);

            Assert.True(before >= 16UL << 20, $"{usageFile} = {before} after touching 16 MiB");
            Match m = Regex.Match(check.GetProperty("value").GetString()!, @"^64 MiB, using ([0-9.]+) MiB$");
            Assert.True(m.Success, check.GetProperty("value").GetString());
            double usedMiB = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            // Bytes() prints two decimals; the hog is idle, so usage moves by page-cache noise at most.
            Assert.InRange(usedMiB, Math.Min(before, after) / 1048576.0 - 0.5, Math.Max(before, after) / 1048576.0 + 0.5);
            Assert.Equal("ok", check.GetProperty("status").GetString());
            Assert.Contains(Path.Combine(cg.Dir, usageFile), check.GetProperty("evidence").GetString());
        }
        finally
        {
            Stop(hog);
        }
    }

    [Fact]
    public void DoctorPid_ShellAtItsPidsLimit_ReportsLimitCurrentAndWarns()
    {
        Requires.Root();
        using TempCgroup cg = TempCgroup.Create("pids");
        cg.Write("pids.max", "3");
        // sh + two sleeps: exactly at the limit of 3.
        using Process shell = StartShell($"echo $$ > {Path.Combine(cg.Dir, "cgroup.procs")}; sleep 60 & sleep 60 & wait", redirect: false);
        try
        {
            Poll.Until(() => cg.ReadNumber("pids.current") == 3, "sh and its two sleeps in the cgroup (pids.current = 3)");
            JsonElement check = Doctor(shell.Id, "limits.pids")["limits.pids"];
            Assert.Equal("3, 3 in use", check.GetProperty("value").GetString());
            Assert.Equal("warn", check.GetProperty("status").GetString());
            Assert.Contains(Path.Combine(cg.Dir, "pids.max"), check.GetProperty("evidence").GetString());
            Assert.Contains("pids.max", check.GetProperty("fix").GetString());
        }
        finally
        {
            Stop(shell);
        }
    }

    [Fact]
    public void DoctorPid_GoBinaryUnderHalfCpuQuota_JudgesTheGomaxprocsItReallyPicked()
    {
        Requires.Root();
        string exe = Path.Combine(GoProgram.Dir, "gomaxprocs");
        GoProgram.Go("build", "-o", exe, Path.Combine(Tools.RepoRoot, "tests", "Kscope.Cli.Tests", "Doctor", "gomaxprocs", "main.go"));
        string goVersion = Tools.Check("go", "version", exe).Trim().Split(' ').Last(); // "PATH: go1.19.8"
        using TempCgroup cg = TempCgroup.Create("cpu");
        if (cg.V2)
        {
            cg.Write("cpu.max", "50000 100000");
        }
        else
        {
            cg.Write("cpu.cfs_period_us", "100000");
            cg.Write("cpu.cfs_quota_us", "50000");
        }
        // Inside the cgroup from its first instruction (the runtime sizes GOMAXPROCS at start-up); no
        // GOMAXPROCS in its environment, DOTNET_PROCESSOR_COUNT set too high for the quota.
        using Process go = StartShell(cg.Enter($"exec {exe}"), redirect: true, new() { ["GOMAXPROCS"] = null, ["DOTNET_PROCESSOR_COUNT"] = "4" });
        try
        {
            Match picked = Regex.Match(go.StandardOutput.ReadLine() ?? "", @"^GOMAXPROCS=(\d+) NumCPU=(\d+)$");
            Assert.True(picked.Success, "the Go program printed no GOMAXPROCS");
            int gomaxprocs = int.Parse(picked.Groups[1].Value, CultureInfo.InvariantCulture);
            var checks = Doctor(go.Id, "limits");
            Assert.Equal("0.5 CPUs", checks["limits.cpu.quota"].GetProperty("value").GetString());

            JsonElement g = checks["limits.gomaxprocs"];
            Assert.Contains(goVersion, g.GetProperty("evidence").GetString());
            Assert.Contains("GOMAXPROCS unset", g.GetProperty("evidence").GetString());
            if (gomaxprocs > 1)
            {
                // The runtime took more Ps than the 0.5 CPU quota rounds up to (Go before 1.25 ignores the
                // quota; Go 1.25+ keeps at least 2): doctor must say so with the number the runtime chose.
                Assert.Equal($"default GOMAXPROCS={gomaxprocs} > quota 0.5 CPUs", g.GetProperty("value").GetString());
                Assert.Equal("warn", g.GetProperty("status").GetString());
                Assert.StartsWith("set GOMAXPROCS=1 or raise the limit", g.GetProperty("fix").GetString());
            }
            else
            {
                Assert.Equal("ok", g.GetProperty("status").GetString());
                Assert.StartsWith($"default 1 ({goVersion}", g.GetProperty("value").GetString());
            }

            JsonElement d = checks["limits.dotnet_processor_count"];
            Assert.Equal("DOTNET_PROCESSOR_COUNT=4 > quota 0.5 CPUs", d.GetProperty("value").GetString());
            Assert.Equal("warn", d.GetProperty("status").GetString());
            Assert.Contains($"/proc/{go.Id}/environ: DOTNET_PROCESSOR_COUNT=4", d.GetProperty("evidence").GetString());
            Assert.StartsWith("set DOTNET_PROCESSOR_COUNT=1", d.GetProperty("fix").GetString());
        }
        finally
        {
            Stop(go);
        }
    }

    private static Process StartShell(string command, bool redirect, Dictionary<string, string?>? environment = null)
    {
        var psi = new ProcessStartInfo("sh") { UseShellExecute = false, RedirectStandardOutput = redirect };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(command);
        foreach (var (key, value) in environment ?? [])
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
        return Process.Start(psi)!;
    }

    private static void Stop(Process p)
    {
        p.Kill(entireProcessTree: true);
        p.WaitForExit();
    }

    private static Dictionary<string, JsonElement> Doctor(int pid, string check)
    {
        var (_, console) = DoctorCommandTests.Run("--pid", pid.ToString(CultureInfo.InvariantCulture), "--json", "--check", check);
        using JsonDocument report = JsonDocument.Parse(console.OutText);
        return report.RootElement.GetProperty("checks").EnumerateArray().ToDictionary(c => c.GetProperty("id").GetString()!, c => c.Clone());
    }
}
