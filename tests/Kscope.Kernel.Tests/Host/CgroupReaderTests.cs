using Kscope.Formats.Cgroups;
using Kscope.Kernel.Host;

namespace Kscope.Kernel.Tests.Host;

public class CgroupReaderTests
{
    [Fact]
    public void Mode_MatchesStatOfCgroupMounts()
    {
        CgroupLimits l = CgroupLimits.Read();
        bool v2 = l.Hierarchies.Any(h => h.Version == 2);
        bool v1 = l.Hierarchies.Any(h => h.Version == 1 && h.Controllers.Count > 0);
        foreach (CgroupHierarchy h in l.Hierarchies)
        {
            Assert.Equal(h.Version == 2 ? "cgroup2fs" : "cgroupfs", Tools.Check("stat", "-f", "-c", "%T", h.MountPoint).Trim());
        }
        Assert.Equal(v1 && v2 ? CgroupMode.Hybrid : v2 ? CgroupMode.V2 : v1 ? CgroupMode.V1 : CgroupMode.None, l.Mode);
    }

    [Fact]
    public void Paths_EachPointsAtADirectoryListingUs()
    {
        CgroupLimits l = CgroupLimits.Read();
        Assert.NotEmpty(l.Cgroups);
        foreach (ProcessCgroup c in l.Cgroups)
        {
            string procs = File.ReadAllText(Path.Combine(c.Directory, "cgroup.procs"));
            Assert.Contains(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), procs.Split('\n'));
        }
    }

    [Fact]
    public void EffectiveCpus_MatchNproc()
    {
        // nproc prints the affinity mask's size, which already honours the cpuset.
        Assert.Equal(int.Parse(Tools.Check("nproc").Trim()), CgroupLimits.Read().EffectiveCpus.Value.Count);
    }

    [Fact]
    public void V2Child_ReadsInterfaceFilesWithTheSameCode()
    {
        using TempCgroup cg = TempCgroup.CreateV2();
        CgroupHierarchy? v2 = CgroupLimits.Read().Hierarchies.FirstOrDefault(h => h.Version == 2);
        Assert.True(v2 is not null && v2.MountPoint == cg.Root, $"CgroupLimits sees no v2 hierarchy at {cg.Root}");
        string dir = cg.Dir;
        using var child = System.Diagnostics.Process.Start("sleep", "10");
        try
        {
            File.WriteAllText(Path.Combine(dir, "cgroup.procs"), child.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            CgroupLimits l = CgroupLimits.Read(child.Id);
            ProcessCgroup unified = l.Cgroups.Single(c => c.Hierarchy.Version == 2);
            Assert.Equal(dir, unified.Directory);
            // PSI and cpu.stat exist in every v2 cgroup: parse them with the same parsers doctor uses.
            if (File.Exists(Path.Combine(dir, "cpu.pressure")))
            {
                Assert.Equal(Path.Combine(dir, "cpu.pressure"), l.CpuPressure!.Source);
            }
            IReadOnlyDictionary<string, ulong> stat = FlatKeyed.Parse(File.ReadAllText(Path.Combine(dir, "cpu.stat")), "cpu.stat");
            Assert.True(stat.ContainsKey("usage_usec"));
            if (v2.Has("cpu"))
            {
                Assert.Null(CpuMax.Parse(File.ReadAllText(Path.Combine(dir, "cpu.max"))).Cpus);
            }
            if (v2.Has("pids") || File.Exists(Path.Combine(dir, "pids.max")))
            {
                Assert.Null(CgroupValue.Limit(File.ReadAllText(Path.Combine(dir, "pids.max")), "pids.max"));
            }
        }
        finally
        {
            child.Kill();
            child.WaitForExit();
        }
    }
}
