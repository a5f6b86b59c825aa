using System.Diagnostics;
using System.Globalization;
using Kscope.Cli.Infrastructure;
using Kscope.Formats.Pprof;

namespace Kscope.Cli.Tests.Profiling;

/// <summary>
/// `profile --container` and `--cgroup` resolved honestly on a running service in container-like cgroups: ids as
/// runtimes write them (full or a unique 12-digit prefix), v1 directories of any controller mapped to the perf_event
/// (here: unified) cgroup of their processes, and a usage error — never a wider cgroup — for anything else.
/// </summary>
[Trait("Category", "Kernel")]
public sealed class ProfileTargetTests
{
    private static (int Code, string Out) Run(params string[] args)
    {
        var console = new StringConsole();
        int code = KscopeCli.Invoke(console, args);
        return (code, console.OutText + console.ErrorText);
    }

    private static string TempProfile() => Path.Combine(Path.GetTempPath(), $"kscope-target-{Environment.ProcessId}-{Guid.NewGuid():N}.pb.gz");

    private static HashSet<long> SampledPids(string profile) =>
        ProfileReader.Read(File.ReadAllBytes(profile)).Samples.SelectMany(s => s.Labels).Where(l => l.Key == "pid").Select(l => l.Num).ToHashSet();

    [Theory]
    [InlineData(12)]
    [InlineData(64)]
    public void ProfileContainer_ServiceInContainerCgroups_SamplesOnlyItsOwnCgroup(int digits)
    {
        Requires.Root();
        using var svc = ServiceUnderLoad.Start(new() { ContainerId = ServiceUnderLoad.NewContainerId(), Clients = 2 });
        if (svc.Cgroups!.Unified is null)
        {
            Requires.KernelLacks(KernelProbe.CgroupV2, "no cgroup v2 hierarchy mounted (this machine has no v1 perf_event one either)");
        }
        string output = TempProfile();
        try
        {
            var (code, text) = Run("profile", "--container", svc.ContainerId![..digits], "--for", "2s", "-o", output);
            Assert.True(code is ExitCodes.Ok or ExitCodes.Warnings, text);
            Assert.Contains($"cgroup {svc.Cgroups.Unified}", text, StringComparison.Ordinal);
            HashSet<long> pids = SampledPids(output);
            Assert.Contains((long)svc.Pid, pids);
            Assert.DoesNotContain((long)svc.LoadPid!.Value, pids); // the load generator is busy too, outside the container
            Assert.All(pids, p => Assert.True(p == svc.Pid || svc.Cgroups.Pids().Contains((int)p), $"pid {p} is not the container's"));
        }
        finally
        {
            File.Delete(output);
        }
    }

    [Fact]
    public void ProfileContainer_CgroupNameInsteadOfId_UsageErrorAndNoProfile()
    {
        Requires.Root();
        using var svc = ServiceUnderLoad.Start(new() { Cgroup = true, Clients = 1 });
        string name = Path.GetFileName(svc.CgroupPath!);
        string output = TempProfile();
        var (code, text) = Run("profile", "--container", name, "--for", "1s", "-o", output);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.False(File.Exists(output), "a profile was written: something was sampled");
        Assert.StartsWith("[ERROR] profile: --container", text.Trim(), StringComparison.Ordinal);
        Assert.Contains("is not a container id", text, StringComparison.Ordinal);
        Assert.Contains($"use --cgroup /sys/fs/cgroup/", text, StringComparison.Ordinal);
        Assert.Single(text.Trim().Split('\n'));
    }

    [Fact]
    public void ProfileContainer_ShortAmbiguousOrMistypedId_UsageErrorListingCloseMatches()
    {
        Requires.Root();
        string first = ServiceUnderLoad.NewContainerId();
        string second = first[..12] + ServiceUnderLoad.NewContainerId()[12..]; // the same 12 digits: docker ps cannot tell them apart
        using var a = ServiceUnderLoad.Start(new() { ContainerId = first, Clients = 1, StartLoad = false });
        using var b = ServiceUnderLoad.Start(new() { ContainerId = second, Clients = 1, StartLoad = false });

        var (code, text) = Run("profile", "--container", first[..12], "--for", "1s", "-o", TempProfile());
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("is ambiguous", text, StringComparison.Ordinal);
        Assert.Contains("give more digits", text, StringComparison.Ordinal);

        (code, text) = Run("profile", "--container", first[..8], "--for", "1s", "-o", TempProfile());
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("at least 12 hex digits", text, StringComparison.Ordinal);
        Assert.Contains(first[..12], text, StringComparison.Ordinal);

        char wrong = first[20] == '0' ? '1' : '0';
        string typo = first[..20] + wrong + first[21..24];
        (code, text) = Run("profile", "--container", typo, "--for", "1s", "-o", TempProfile());
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains($"no container '{typo}'", text, StringComparison.Ordinal);
        Assert.Contains($"close: {first[..12]}", text, StringComparison.Ordinal);

        // The unique full id still works.
        string output = TempProfile();
        try
        {
            (code, text) = Run("profile", "--container", second, "--for", "1s", "-o", output);
            Assert.True(code is ExitCodes.Ok or ExitCodes.Warnings, text);
            Assert.Contains(second, text, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(output);
        }
    }

    [Fact]
    public void ProfileCgroup_V1CpuDirectoryWithQuota_MapsToTheUnifiedCgroupOfItsProcesses()
    {
        Requires.Root();
        using var svc = ServiceUnderLoad.Start(new() { CpuQuota = 0.5, Clients = 2 });
        if (!svc.Cgroups!.V1.TryGetValue("cpu", out string? cpu) || svc.Cgroups.Unified is null)
        {
            Requires.KernelLacks(svc.Cgroups.Unified is null ? KernelProbe.CgroupV2 : KernelProbe.CgroupV1Cpu, "a hybrid host (v1 cpu hierarchy next to the unified one): on pure v2 --cgroup is the v2 directory");
            return;
        }
        string output = TempProfile();
        try
        {
            var (code, text) = Run("profile", "--cgroup", cpu, "--for", "2s", "-o", output);
            Assert.True(code is ExitCodes.Ok or ExitCodes.Warnings, text);
            Assert.Contains($"cgroup {svc.Cgroups.Unified}", text, StringComparison.Ordinal);
            Assert.Equal([(long)svc.Pid], SampledPids(output));
        }
        finally
        {
            File.Delete(output);
        }
    }

    [Fact]
    public void ProfileCgroup_V1DirectoryWhoseProcessesAreInTheRootUnifiedCgroup_UsageErrorSaysWhatToGive()
    {
        Requires.Root();
        string? cpuRoot = File.ReadAllLines("/proc/self/mountinfo").Select(l => l.Split(' '))
            .Where(p => p.Contains("cgroup") && p[^1].Split(',').Contains("cpu")).Select(p => p[4]).FirstOrDefault();
        if (cpuRoot is null)
        {
            Requires.KernelLacks(KernelProbe.CgroupV1Cpu, "no v1 cpu hierarchy (pure cgroup v2)");
            return;
        }
        // Only in the v1 cpu hierarchy, as Docker's cgroupfs driver on a hybrid host: the unified cgroup stays kscope's own.
        string dir = Path.Combine(cpuRoot, $"kscope-v1only-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}");
        Directory.CreateDirectory(dir);
        using var member = Process.Start("/bin/sh", ["-c", $"echo $$ > {dir}/cgroup.procs && exec sleep 30"])!;
        string output = TempProfile();
        try
        {
            for (int i = 0; i < 250 && !File.ReadAllText(Path.Combine(dir, "cgroup.procs")).Contains(member.Id.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal); i++)
            {
                Thread.Sleep(20);
            }
            var (code, text) = Run("profile", "--cgroup", dir, "--for", "1s", "-o", output);
            Assert.Equal(ExitCodes.Usage, code);
            Assert.False(File.Exists(output));
            Assert.Contains("is a cgroup v1 cpu directory; perf filters on", text, StringComparison.Ordinal);
            Assert.Contains(member.Id.ToString(CultureInfo.InvariantCulture), text, StringComparison.Ordinal);
            Assert.Contains("give --pid", text, StringComparison.Ordinal);

            // An empty v1 directory has nothing to map from.
            member.Kill();
            member.WaitForExit();
            for (int i = 0; i < 250 && File.ReadAllText(Path.Combine(dir, "cgroup.procs")).Trim().Length > 0; i++)
            {
                Thread.Sleep(20);
            }
            (code, text) = Run("profile", "--cgroup", dir, "--for", "1s", "-o", output);
            Assert.Equal(ExitCodes.Usage, code);
            Assert.Contains("holds no process to map from", text, StringComparison.Ordinal);
        }
        finally
        {
            if (!member.HasExited)
            {
                member.Kill();
                member.WaitForExit();
            }
            for (int i = 0; i < 250 && Directory.Exists(dir); i++)
            {
                try
                {
                    Directory.Delete(dir);
                }
                catch (IOException)
                {
                    Thread.Sleep(20);
                }
            }
            File.Delete(output);
        }
    }
}
