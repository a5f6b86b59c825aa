using Kscope.Formats.Procfs;
using Kscope.Kernel.Host;
using Kscope.Native;

namespace Kscope.Kernel.Tests.Host;

/// <summary>The Host readers against independent sources on this machine: id, nproc, getconf, sysctl, stat, zcat, capsh.</summary>
public class ProcfsReaderTests
{
    [Fact]
    public void Status_Self_MatchesProcessAndId()
    {
        ProcStatus s = Procfs.Status();
        Assert.Equal(Environment.ProcessId, s.Pid);
        Assert.Equal(uint.Parse(Tools.Check("id", "-u").Trim()), s.Uids[1]);
        Assert.True(s.Threads >= 1);
    }

    [Fact]
    public void Stat_OtherPid_MatchesItsStatus()
    {
        using var child = System.Diagnostics.Process.Start("sleep", "5");
        try
        {
            ProcStat stat = Procfs.Stat(child.Id);
            ProcStatus status = Procfs.Status(child.Id);
            Assert.Equal(child.Id, stat.Pid);
            Assert.Equal(status.PPid, stat.PPid);
            Assert.Equal(Environment.ProcessId, stat.PPid);
            Assert.Contains("sleep", Procfs.Cmdline(child.Id)[0]);
            Assert.Equal(["sleep", "5"], Procfs.Cmdline(child.Id).Select(Path.GetFileName));
        }
        finally
        {
            child.Kill();
            child.WaitForExit();
        }
    }

    [Fact]
    public void Environ_OfChild_SeesItsVariables()
    {
        var psi = new System.Diagnostics.ProcessStartInfo("sleep", "5");
        psi.Environment["GOMAXPROCS"] = "7";
        using var child = System.Diagnostics.Process.Start(psi)!;
        try
        {
            Assert.Equal("7", Procfs.Environ(child.Id)["GOMAXPROCS"]);
        }
        finally
        {
            child.Kill();
            child.WaitForExit();
        }
    }

    [Fact]
    public void Procfs_VanishedPid_ThrowsENOENT()
    {
        var e = Assert.ThrowsAny<KernelException>(() => Procfs.Status(int.MaxValue - 1));
        Assert.Equal(Errno.ENOENT, e.Errno);
        Assert.Contains("(ENOENT)", e.Message);
    }

    [Fact]
    public void Limits_MatchPrlimitAndUlimit()
    {
        ProcLimit nofile = Procfs.Limits().Single(l => l.Name == "Max open files");
        RLimit r = Posix.GetRLimit(7);
        Assert.Equal(r.Current, nofile.Soft);
        Assert.Equal(r.Maximum, nofile.Hard);
        // a child inherits the limit: the shell's ulimit is an independent reader
        Assert.Equal(nofile.Soft.ToString(System.Globalization.CultureInfo.InvariantCulture), Tools.Check("sh", "-c", "ulimit -n").Trim());
    }

    [Fact]
    public void Maps_Self_HasStackAndOurRuntime()
    {
        IReadOnlyList<ProcMapsEntry> maps = Procfs.Maps();
        Assert.Contains(maps, m => m.Path == "[stack]");
        // The test host runs on the shared runtime: libcoreclr.so's code is mapped r-xp (each part must hold by itself).
        Assert.Contains(maps, m => m.Path.EndsWith("/libcoreclr.so", StringComparison.Ordinal) && m.IsExecutable);
        Assert.Contains(maps, m => m.Path.EndsWith("/libcoreclr.so", StringComparison.Ordinal) && !m.IsExecutable);
        Assert.All(maps, m => Assert.True(m.End > m.Start));
    }

    [Fact]
    public void MountInfo_MatchesFindmnt()
    {
        var ours = Procfs.MountInfo().Select(m => m.MountPoint).ToHashSet();
        foreach (string target in Tools.Check("findmnt", "-rn", "-o", "TARGET").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            Assert.Contains(target.Replace("\\x20", " ", StringComparison.Ordinal), ours);
        }
    }

    [Fact]
    public void Namespaces_MatchStatOfNsLinks()
    {
        IReadOnlyList<NamespaceId> ns = Procfs.Namespaces();
        Assert.Contains(ns, n => n.Type == "net");
        foreach (string type in new[] { "net", "pid", "mnt", "uts" })
        {
            ulong inode = ulong.Parse(Tools.Check("stat", "-L", "-c", "%i", $"/proc/{Environment.ProcessId}/ns/{type}").Trim());
            Assert.Equal(inode, ns.Single(n => n.Type == type).Inode);
        }
    }

    [Fact]
    public void Sysctl_MatchesSysctlTool()
    {
        foreach (string name in new[] { "kernel.perf_event_paranoid", "kernel.kptr_restrict", "vm.max_map_count", "kernel.randomize_va_space" })
        {
            Assert.Equal(Tools.Check("sysctl", "-n", name).Trim(), Sysctl.Read(name));
        }
        Assert.Null(Sysctl.Read("kernel.no_such_sysctl_kscope"));
    }

    [Fact]
    public void OnlineCpus_MatchGetconf()
    {
        Assert.Equal(int.Parse(Tools.Check("getconf", "_NPROCESSORS_ONLN").Trim()), CgroupLimits.OnlineCpus().Count);
    }

    [Fact]
    public void ReadText_SysfsFileWithFakeSize_ReadsWholeContent()
    {
        // sysfs reports st_size 4096 for a 4-byte file; File.ReadAllBytes fails on it, ours must not.
        Assert.Equal(File.ReadAllText("/sys/devices/system/cpu/online").Trim(), Procfs.ReadText("/sys/devices/system/cpu/online").Trim());
    }

    [Fact]
    public void KernelConfig_MatchesZcat()
    {
        var config = KernelConfigReader.Read();
        if (config is null)
        {
            Requires.Unmet("no /proc/config.gz or /boot/config-RELEASE on this machine");
            return;
        }
        string text = Tools.Check("sh", "-c", "zcat /proc/config.gz 2>/dev/null || cat /boot/config-$(uname -r)");
        foreach (string line in text.Split('\n').Where(l => l.StartsWith("CONFIG_", StringComparison.Ordinal)).Take(400))
        {
            int eq = line.IndexOf('=');
            Assert.Equal(line[(eq + 1)..].Trim('"'), config.Value[line[..eq]]);
        }
    }

    [Fact]
    public void Capget_MatchesStatusAndCapsh()
    {
        CapabilitySets caps = CapabilitySets.Capget();
        ProcStatus status = Procfs.Status();
        Assert.Equal(status.CapEff, caps.Effective);
        Assert.Equal(status.CapPrm, caps.Permitted);
        Assert.Equal(status.CapInh, caps.Inheritable);
        string capsh = Requires.Tool("capsh", "libcap2-bin");
        string decoded = Tools.Check(capsh, $"--decode={caps.Effective:x}").Trim();
        string names = decoded[(decoded.IndexOf('=') + 1)..];
        Assert.Equal(names, string.Join(',', Capability.Decode(caps.Effective)).ToLowerInvariant());
    }

    [Fact]
    public void Capability_NamesRoundTrip()
    {
        for (int i = 0; i <= Capability.Last; i++)
        {
            Assert.Equal(i, Capability.Number(Capability.Name(i)));
        }
        Assert.Equal("CAP_BPF", Capability.Name(Capability.Bpf));
        Assert.Equal("cap_63", Capability.Name(63));
    }
}
