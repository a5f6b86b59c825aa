using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
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
        Requires.Root();
        CgroupLimits self = CgroupLimits.Read();
        CgroupHierarchy? cpu = self.Hierarchies.FirstOrDefault(h => h.Version == 2 && h.Has("cpu"))
            ?? self.Hierarchies.FirstOrDefault(h => h.Version == 1 && h.Has("cpu"));
        if (cpu is null)
        {
            Requires.KernelLacks("a mounted cgroup hierarchy with the cpu controller");
            return;
        }
        if (cpu.Version == 2)
        {
            // A child has cpu.max only once its parent enables the cpu controller for its children
            // (pure v2, as in the tests/kernels guests: nothing may have enabled it yet).
            File.WriteAllText(Path.Combine(cpu.MountPoint, "cgroup.subtree_control"), "+cpu");
        }
        string dir = Path.Combine(cpu.MountPoint, $"kscope-test-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        Process? burner = null;
        try
        {
            if (cpu.Version == 2)
            {
                File.WriteAllText(Path.Combine(dir, "cpu.max"), "20000 100000");
            }
            else
            {
                File.WriteAllText(Path.Combine(dir, "cpu.cfs_period_us"), "100000");
                File.WriteAllText(Path.Combine(dir, "cpu.cfs_quota_us"), "20000");
            }
            var psi = new ProcessStartInfo("sh") { UseShellExecute = false };
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add("while :; do :; done");
            psi.Environment["GOMAXPROCS"] = "8";
            burner = Process.Start(psi)!;
            int pid = burner.Id;

            // Before it moves in: the empty cgroup was never throttled.
            Assert.Equal("0", File.ReadAllLines(Path.Combine(dir, "cpu.stat")).First(l => l.StartsWith("nr_throttled", StringComparison.Ordinal)).Split(' ')[1]);

            File.WriteAllText(Path.Combine(dir, "cgroup.procs"), pid.ToString(CultureInfo.InvariantCulture));
            Thread.Sleep(700);
            CpuThrottling first = CgroupLimits.Read(pid).Throttling!;
            var (code, console) = DoctorCommandTests.Run("--pid", pid.ToString(CultureInfo.InvariantCulture), "--json", "--check", "limits");
            Thread.Sleep(500);
            CgroupLimits later = CgroupLimits.Read(pid);

            // Host API: quota 0.2 from our cgroup, throttling rising.
            Assert.Equal(0.2, later.CpuQuota!.Value.Cpus!.Value, 6);
            Assert.StartsWith(dir, later.CpuQuota.Source);
            Assert.True(first.Periods > 0 && first.ThrottledPeriods > 0, $"no throttling after 0.7 s: {first}");
            Assert.True(later.Throttling!.ThrottledPeriods > first.ThrottledPeriods, $"throttled periods did not rise: {first.ThrottledPeriods} -> {later.Throttling.ThrottledPeriods}");
            Assert.True(later.Throttling.ThrottledMicroseconds > first.ThrottledMicroseconds);
            Assert.True(later.Throttling.ThrottledShare > 0.5, $"a burner at 0.2 CPU is throttled in most periods: {later.Throttling}");

            // doctor --pid: the same facts, as a user reads them.
            using JsonDocument report = JsonDocument.Parse(console.OutText);
            var checks = report.RootElement.GetProperty("checks").EnumerateArray().ToDictionary(c => c.GetProperty("id").GetString()!);
            Assert.Equal(pid, report.RootElement.GetProperty("target").GetProperty("pid").GetInt32());
            Assert.Equal("0.2 CPUs", checks["limits.cpu.quota"].GetProperty("value").GetString());
            Assert.Contains(dir, checks["limits.cpu.quota"].GetProperty("evidence").GetString());
            Assert.StartsWith(Tools.Check("nproc").Trim() + " ", checks["limits.cpus"].GetProperty("value").GetString());
            Assert.Equal("warn", checks["limits.cpu.throttling"].GetProperty("status").GetString());
            Assert.Contains("nr_throttled", checks["limits.cpu.throttling"].GetProperty("evidence").GetString());
            Assert.Equal("warn", checks["limits.gomaxprocs"].GetProperty("status").GetString());
            Assert.Equal("GOMAXPROCS=8 > quota 0.2 CPUs", checks["limits.gomaxprocs"].GetProperty("value").GetString());
            Assert.Equal("set GOMAXPROCS=1 or raise the limit", checks["limits.gomaxprocs"].GetProperty("fix").GetString());
            Assert.Contains(Path.GetFileName(dir), checks["limits.cgroup.paths"].GetProperty("value").GetString());
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
            for (int attempt = 0; attempt < 100 && Directory.Exists(dir); attempt++)
            {
                try
                {
                    Directory.Delete(dir);
                }
                catch (IOException)
                {
                    Thread.Sleep(20); // the killed task leaves the cgroup asynchronously
                }
            }
            Assert.False(Directory.Exists(dir), $"could not remove {dir}");
        }
    }
}
