using System.Diagnostics;
using Kscope.Diagnostics.Doctor;
using Kscope.Formats.Procfs;
using Kscope.Kernel.Host;

namespace Kscope.Cli.Tests.Matrix;

/// <summary>
/// cgroup v2 end to end: a child cgroup with cpu.max 20000 100000, memory.max and cpuset.cpus, a
/// process burning CPU in it, and what CgroupLimits and doctor's limits checks say about it. Runs in
/// the tests/kernels guests (pure v2, every controller); skips on hosts whose v2 hierarchy lacks the
/// cpu/memory/cpuset controllers (hybrid mode binds them to v1).
/// </summary>
[Trait("Category", "Kernel")]
public class CgroupV2DoctorTests
{
    private const ulong MemoryMax = 256UL << 20;

    private static string UnifiedMount()
    {
        IReadOnlyList<MountInfoEntry> mounts = Procfs.MountInfo();
        CgroupHierarchy? v2 = Cgroups.Hierarchies(mounts).FirstOrDefault(h => h.Version == 2);
        if (v2 is null)
        {
            Requires.KernelLacks("a cgroup v2 mount");
        }
        string available = File.ReadAllText(Path.Combine(v2!.MountPoint, "cgroup.controllers"));
        string[] missing = new[] { "cpu", "memory", "cpuset" }.Where(c => !available.Split([' ', '\n']).Contains(c)).ToArray();
        if (missing.Length > 0)
        {
            Requires.KernelLacks($"cgroup v2 controllers {string.Join(',', missing)} at {v2.MountPoint} (hybrid mode binds them to v1)");
        }
        return v2.MountPoint;
    }

    [Fact]
    public void CpuMaxQuota_BurningChild_ThrottledShareRisesAndDoctorWarns()
    {
        Requires.Root();
        string mount = UnifiedMount();
        File.WriteAllText(Path.Combine(mount, "cgroup.subtree_control"), "+cpu +memory +cpuset");
        string dir = Path.Combine(mount, $"kscope-test-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        Process? burner = null;
        try
        {
            File.WriteAllText(Path.Combine(dir, "cpu.max"), "20000 100000");
            File.WriteAllText(Path.Combine(dir, "memory.max"), MemoryMax.ToString(System.Globalization.CultureInfo.InvariantCulture));
            File.WriteAllText(Path.Combine(dir, "cpuset.cpus"), "0");
            burner = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", "while :; do :; done"]) { UseShellExecute = false })!;
            File.WriteAllText(Path.Combine(dir, "cgroup.procs"), burner.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));

            Thread.Sleep(1000);
            CgroupLimits first = CgroupLimits.Read(burner.Id);
            Thread.Sleep(1500);
            CgroupLimits limits = CgroupLimits.Read(burner.Id);

            Assert.Equal(CgroupMode.V2, limits.Mode);
            Assert.NotNull(limits.CpuQuota);
            Assert.Equal(0.2, limits.CpuQuota!.Value.Cpus!.Value, 3);
            Assert.Equal(Path.Combine(dir, "cpu.max"), limits.CpuQuota.Source);
            Assert.Equal([0], limits.EffectiveCpus.Value);
            Assert.Equal(MemoryMax, limits.MemoryLimit?.Value);
            Assert.NotNull(first.Throttling);
            Assert.NotNull(limits.Throttling);
            Assert.Equal(Path.Combine(dir, "cpu.stat"), limits.Throttling!.Source);
            Assert.True(limits.Throttling.ThrottledPeriods > first.Throttling!.ThrottledPeriods,
                $"nr_throttled did not rise: {first.Throttling.ThrottledPeriods} -> {limits.Throttling.ThrottledPeriods}");
            // A busy loop with 0.2 CPUs is throttled in nearly every period it runs.
            Assert.True(limits.Throttling.ThrottledShare > 0.5, $"throttled share {limits.Throttling.ThrottledShare:P0} of {limits.Throttling.Periods} periods");

            IReadOnlyList<CheckResult> results = Kscope.Diagnostics.Doctor.Doctor.Run(new DoctorContext(burner.Id), ["limits"]);
            CheckResult Result(string id) => results.Single(r => r.Id == id);
            Assert.Equal(CheckStatus.Warn, Result("limits.cpu.throttling").Status);
            Assert.Contains("nr_throttled", Result("limits.cpu.throttling").Evidence);
            Assert.Contains("cpu.max", Result("limits.cpu.quota").Evidence + Result("limits.cpu.quota").Value);
            Assert.Contains("0.2", Result("limits.cpu.quota").Value);
            Assert.Contains("memory.max", Result("limits.memory").Evidence);
            Assert.Contains("cpuset.cpus.effective", Result("limits.cpus").Evidence);
            Console.WriteLine(string.Join('\n', results.Select(r => $"{r.Id}: {r.Status} {r.Value} | {r.Evidence}")));
        }
        finally
        {
            if (burner is not null)
            {
                burner.Kill();
                burner.WaitForExit();
                burner.Dispose();
            }
            for (int i = 0; i < 50 && Directory.Exists(dir); i++)
            {
                try
                {
                    Directory.Delete(dir);
                }
                catch (IOException)
                {
                    Thread.Sleep(100); // the killed task leaves the cgroup asynchronously
                }
            }
        }
    }
}
