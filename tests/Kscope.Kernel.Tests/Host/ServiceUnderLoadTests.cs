using System.Globalization;

namespace Kscope.Kernel.Tests.Host;

/// <summary>The TestKit "service under load" fixture itself: running, busy on several threads, in its cgroups, and gone after Dispose.</summary>
[Trait("Category", "Kernel")]
public sealed class ServiceUnderLoadTests
{
    [Fact]
    public void Start_Default_IsBusyOnSeveralThreadsAndServesPprof()
    {
        int pid;
        using (var svc = ServiceUnderLoad.Start(new() { Gomaxprocs = 2, Clients = 2 }))
        {
            pid = svc.Pid;
            Assert.Equal(svc.Executable, Path.GetFullPath(File.ReadAllText($"/proc/{pid}/cmdline").Split('\0')[0]));
            svc.WaitUntilBusy(minRequests: 3);
            ServiceStats stats = svc.Stats();
            Assert.Equal(2, stats.Gomaxprocs);
            Assert.True(stats.Threads >= 3, $"{stats.Threads} threads");
            Assert.InRange(svc.Tids().Count, stats.Threads - 2, stats.Threads + 2); // /proc agrees with the service (a thread may come or go in between)
            Assert.NotNull(svc.LoadPid);
            // Several threads burn CPU: the process's CPU time is spread over more than one tid.
            int busy = svc.Tids().Count(t => CpuTicks($"/proc/{pid}/task/{t}/stat") > 0);
            Assert.True(busy >= 2, $"{busy} threads have used CPU");
            Assert.Contains("goroutine", svc.Get("/debug/pprof/goroutine?debug=1"), StringComparison.Ordinal);
            Assert.StartsWith("http://127.0.0.1:", svc.PprofUrl, StringComparison.Ordinal);
        }
        Assert.False(Directory.Exists($"/proc/{pid}") && !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ", StringComparison.Ordinal), "the service outlived Dispose");
    }

    [Fact]
    public void SpawnThreadAndChild_WhileRunning_GiveANewTidAndAChildProcess()
    {
        using var svc = ServiceUnderLoad.Start(new() { Clients = 1 });
        IReadOnlyList<int> before = svc.Tids();
        // long enough to be there when the test looks, however slow the machine (a 500 ms thread had ended under QEMU TCG); Dispose kills it
        int tid = svc.SpawnThread(TimeSpan.FromSeconds(10));
        Assert.DoesNotContain(tid, before);
        Assert.True(Directory.Exists($"/proc/{svc.Pid}/task/{tid}"), "the new thread is not the service's");
        int child = svc.SpawnChild(TimeSpan.FromSeconds(10));
        string stat = File.ReadAllText($"/proc/{child}/stat");
        int ppid = int.Parse(stat[(stat.LastIndexOf(')') + 4)..].Split(' ')[0], CultureInfo.InvariantCulture);
        Assert.Equal(svc.Pid, ppid);
    }

    [Fact]
    public void Start_ContainerLikeCgroupWithQuota_RunsInsideAndCleansUp()
    {
        string id = ServiceUnderLoad.NewContainerId();
        List<string> dirs;
        using (var svc = ServiceUnderLoad.Start(new() { ContainerId = id, CpuQuota = 0.5, Clients = 2 }))
        {
            Assert.NotNull(svc.Cgroups);
            dirs = [.. svc.Cgroups!.Dirs];
            Assert.NotEmpty(dirs);
            Assert.All(dirs, d => Assert.EndsWith($"/docker-{id}.scope", d, StringComparison.Ordinal));
            Assert.Contains(svc.Pid, svc.Cgroups.Pids());
            string cgroups = File.ReadAllText($"/proc/{svc.Pid}/cgroup");
            Assert.Contains($"docker-{id}.scope", cgroups, StringComparison.Ordinal);
            Assert.NotNull(svc.Cgroups.QuotaDir);
            string quotaDir = svc.Cgroups.QuotaDir!;
            string quota = File.Exists(Path.Combine(quotaDir, "cpu.max"))
                ? File.ReadAllText(Path.Combine(quotaDir, "cpu.max")).Trim()
                : File.ReadAllText(Path.Combine(quotaDir, "cpu.cfs_quota_us")).Trim();
            Assert.StartsWith("50000", quota, StringComparison.Ordinal);
            // The load generator is the client, not the service: it stays outside.
            Assert.DoesNotContain(svc.LoadPid!.Value, svc.Cgroups.Pids());
            svc.SpawnChild(TimeSpan.FromSeconds(30)); // left running: Dispose must kill it with the cgroup
        }
        Assert.All(dirs, d => Assert.False(Directory.Exists(d), $"{d} remains"));
        Assert.All(dirs, d => Assert.False(Directory.Exists(Path.GetDirectoryName(d)), $"{Path.GetDirectoryName(d)} remains"));
    }

    private static long CpuTicks(string statPath)
    {
        try
        {
            string stat = File.ReadAllText(statPath);
            string[] f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture); // utime + stime
        }
        catch (IOException)
        {
            return 0;
        }
    }
}
