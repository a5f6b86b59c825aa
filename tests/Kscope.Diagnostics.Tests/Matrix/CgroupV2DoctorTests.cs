using System.Diagnostics;
using Kscope.Diagnostics.Doctor;
using Kscope.Formats.Procfs;
using Kscope.Kernel.Host;

namespace Kscope.Diagnostics.Tests.Matrix;

/// <summary>
/// cgroup v2 end to end: a child cgroup with cpu.max 1000 5000 (0.2 CPUs), memory.max and cpuset.cpus, a
/// process burning CPU in it, and what CgroupLimits and doctor's limits checks say about it. Runs in
/// the tests/kernels guests (pure v2, every controller); skips on hosts whose v2 hierarchy lacks the
/// cpu/memory/cpuset controllers (hybrid mode binds them to v1).
/// </summary>
[Trait("Category", "Kernel")]
public class CgroupV2DoctorTests
{
    private const ulong MemoryMax = 256UL << 20;

    [Fact]
    public void CpuMaxQuota_BurningChild_ThrottledShareRisesAndDoctorWarns()
    {
        // The unified hierarchy with cpu, memory and cpuset enabled for the child (TestKit's fixture owns the root's
        // cgroup.subtree_control); skips only where a v1 hierarchy holds one of them (hybrid mode).
        using TempCgroup cg = TempCgroup.CreateV2(null, "cpu", "memory", "cpuset");
        string dir = cg.Dir;
        Process? burner = null;
        try
        {
            // 0.2 CPUs as 1 ms per 5 ms period: any scheduler slice exceeds 1 ms, so the burner is throttled in the periods it runs.
            cg.Write("cpu.max", "1000 5000");
            cg.Write("memory.max", MemoryMax.ToString(System.Globalization.CultureInfo.InvariantCulture));
            cg.Write("cpuset.cpus", "0");
            burner = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", "while :; do :; done"]) { UseShellExecute = false })!;
            cg.Add(burner.Id);

            CgroupLimits first = Poll.Until(() => CgroupLimits.Read(burner.Id), l => l.Throttling is { ThrottledPeriods: > 0 }, "the burner at 0.2 CPU throttled");
            CgroupLimits limits = Poll.Until(() => CgroupLimits.Read(burner.Id), l => l.Throttling!.ThrottledPeriods > first.Throttling!.ThrottledPeriods, "throttled periods rising");

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
            Assert.True(limits.Throttling.ThrottledShare > 0.01, $"doctor warns above 1%: throttled share {limits.Throttling.ThrottledShare:P0} of {limits.Throttling.Periods} periods");

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
        }
    }
}
