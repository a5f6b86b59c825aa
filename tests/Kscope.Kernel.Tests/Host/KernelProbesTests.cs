using Kscope.Kernel.Host;
using Kscope.Kernel.Host.Probes;

namespace Kscope.Kernel.Tests.Host;

/// <summary>Probe results against independent oracles: bpftool feature probe, the kernel config, the active LSMs.</summary>
public class KernelProbesTests
{
    [Fact]
    public void Bpf_MatchesBpftoolFeatureProbe()
    {
        Requires.Root();
        string bpftool = Requires.Tool("bpftool", "bpftool");
        string probe = Tools.Check(bpftool, "feature", "probe", "kernel");
        ProbeResult r = KernelProbes.Probe(KernelProbes.Bpf);
        bool syscall = probe.Contains("bpf() syscall is available", StringComparison.Ordinal);
        bool socketFilter = probe.Contains("program_type socket_filter is available", StringComparison.Ordinal);
        bool array = probe.Contains("map_type array is available", StringComparison.Ordinal);
        Assert.Equal(syscall && socketFilter && array, r.Status == FeatureStatus.Present);
        Assert.Contains("BPF_PROG_LOAD", r.Evidence);
    }

    [Theory]
    [InlineData(KernelProbes.PerfEventOpen, "PERF_EVENTS")]
    [InlineData(KernelProbes.IoUringSetup, "IO_URING")]
    [InlineData(KernelProbes.Seccomp, "SECCOMP")]
    [InlineData(KernelProbes.Membarrier, "MEMBARRIER")]
    public void ConfigGatedSyscalls_MatchKernelConfig(string feature, string option)
    {
        Requires.Root();
        var config = KernelConfigReader.Read();
        if (config is null)
        {
            Requires.Unmet("no kernel config to compare with");
            return;
        }
        bool built = config.Value[option] is "y";
        ProbeResult r = KernelProbes.Probe(feature);
        if (feature == KernelProbes.IoUringSetup && Sysctl.ReadInt("kernel.io_uring_disabled") is > 0)
        {
            Assert.NotEqual(FeatureStatus.Absent, r.Status);
            return;
        }
        Assert.Equal(built ? FeatureStatus.Present : FeatureStatus.Absent, r.Status);
    }

    [Theory]
    [InlineData(KernelProbes.EpollPwait2)]
    [InlineData(KernelProbes.PidfdOpen)]
    [InlineData(KernelProbes.Clone3)]
    [InlineData(KernelProbes.GetRandom)]
    [InlineData(KernelProbes.Statx)]
    public void AlwaysBuiltSyscalls_MatchSyscallTable(string feature)
    {
        // These syscalls are unconditional in every kernel that lists them in /proc/kallsyms as __x64_sys_*/__arm64_sys_*.
        string symbol = feature switch
        {
            KernelProbes.EpollPwait2 => "sys_epoll_pwait2",
            KernelProbes.PidfdOpen => "sys_pidfd_open",
            KernelProbes.Clone3 => "sys_clone3",
            KernelProbes.GetRandom => "sys_getrandom",
            _ => "sys_statx",
        };
        bool inKernel = File.ReadLines("/proc/kallsyms").Any(l => l.EndsWith("_" + symbol, StringComparison.Ordinal) || l.EndsWith(" " + symbol, StringComparison.Ordinal));
        Assert.Equal(inKernel ? FeatureStatus.Present : FeatureStatus.Absent, KernelProbes.Probe(feature).Status);
    }

    [Fact]
    public void Landlock_PresentExactlyWhenActiveLsm()
    {
        Requires.Root();
        bool active = SecurityModules.Active().Value.Contains("landlock");
        ProbeResult r = KernelProbes.Probe(KernelProbes.Landlock);
        Assert.Equal(active ? FeatureStatus.Present : FeatureStatus.Absent, r.Status);
    }

    [Fact]
    public void Probe_Cached_ReturnsSameResult() =>
        Assert.Same(KernelProbes.Probe(KernelProbes.Statx), KernelProbes.Probe(KernelProbes.Statx));
}

/// <summary>
/// The fd-leak check counts the whole process's /proc/self/fd, so it runs in the leak collection, alone: in
/// parallel with other classes their open fds were counted as probe leaks (a fresh-clone CI saw 98 -> 109).
/// </summary>
[Collection(LeakCollection.Name)]
public class KernelProbesLeakTests
{
    [Fact]
    public void Probes_Repeated_DoNotLeakFds()
    {
        FdCounter.AssertNoGrowth(50, () =>
        {
            foreach (string feature in KernelProbes.Names)
            {
                KernelProbes.ProbeUncached(feature);
            }
        });
    }
}
