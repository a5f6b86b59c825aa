using Kscope.Cli.Infrastructure;
using Kscope.Diagnostics.Trace;
using Kscope.Formats.Procfs;
using Kscope.TestKit;

namespace Kscope.Cli.Tests.Trace;

public sealed class TraceCommandTests
{
    private static (int Code, StringConsole Console) Run(params string[] args)
    {
        var console = new StringConsole();
        int code = KscopeCli.Invoke(console, args);
        return (code, console);
    }

    [Fact]
    public void Trace_UnknownGadget_IsUsageError()
    {
        (int code, StringConsole console) = Run("trace", "nope");
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("no gadget 'nope'", console.ErrorText, StringComparison.Ordinal);
    }

    [Fact]
    public void Trace_MissingPid_IsUsageError()
    {
        (int code, StringConsole console) = Run("trace", "exec", "--pid", "999999999");
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("no process with pid 999999999", console.ErrorText, StringComparison.Ordinal);
    }

    [Fact]
    public void Trace_BadDuration_IsUsageError()
    {
        Assert.Equal(ExitCodes.Usage, Run("trace", "cpu-throttle", "--pid", "1", "--for", "soon").Code);
    }

    [Fact]
    public void TraceList_Json_NamesEveryGadget()
    {
        (int code, StringConsole console) = Run("trace", "--list", "--json");
        Assert.Equal(ExitCodes.Ok, code);
        string[] lines = console.OutText.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(GadgetCatalog.All.Count, lines.Length);
        foreach (string name in (string[])["exec", "open", "syscalls", "offcpu", "futex", "runqlat", "tcp", "oom", "signal", "cpu-throttle"])
        {
            Assert.Contains(lines, l => l.Contains($"\"gadget\":\"{name}\"", StringComparison.Ordinal));
        }
    }

    [Fact]
    [Trait("Category", "Kernel")]
    public async Task StoppedCommand_Start_IsStoppedUntilResumed()
    {
        string marker = Path.Combine(Path.GetTempPath(), $"kscope-stopped-{Environment.ProcessId}");
        File.Delete(marker);
        using StoppedCommand command = StoppedCommand.Start(["/bin/sh", "-c", $"echo ran > {marker}; exit 7"]);
        Assert.Equal('T', ProcStat.Parse(File.ReadAllText($"/proc/{command.Pid}/stat")).State);
        await Task.Delay(100, TestContext.Current.CancellationToken);
        Assert.False(File.Exists(marker));
        command.Resume();
        await command.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.Equal(7, command.ExitCode);
        Assert.True(File.Exists(marker));
        File.Delete(marker);
    }

    [Fact]
    [Trait("Category", "Kernel")]
    public void TargetResolver_V2Cgroup_IdIsTheDirectoryInode()
    {
        Requires.Root();
        Requires.Kernel(KernelProbe.CgroupV2); // mounts cgroup2 when nothing did
        string? unified = File.ReadAllLines("/proc/self/mountinfo").Select(l => l.Split(' ')).FirstOrDefault(p => p.Contains("cgroup2"))?[4];
        if (unified is null)
        {
            Requires.KernelLacks(KernelProbe.CgroupV2, "no cgroup2 line in /proc/self/mountinfo");
        }
        string expected = Tools.Check("stat", "-c", "%i", unified).Trim();
        TraceFilter f = TargetResolver.ForCgroup(new TraceFilter(), unified);
        Assert.Equal(expected, f.CgroupId.ToString());
    }

    /// <summary>A busy child in a cgroup with a 10% CPU quota: cpu-throttle reports throttled periods.</summary>
    [Fact]
    [Trait("Category", "Kernel")]
    public void TraceCpuThrottle_SmallQuota_ReportsThrottling()
    {
        using TempCgroup cg = TempCgroup.Create("cpu");
        string dir = cg.Dir;
        // 10% as 1 ms per 10 ms: any scheduler slice exceeds 1 ms, so the loop is throttled whenever it runs, however loaded the host.
        if (cg.V2)
        {
            cg.Write("cpu.max", "1000 10000");
        }
        else
        {
            cg.Write("cpu.cfs_period_us", "10000");
            cg.Write("cpu.cfs_quota_us", "1000");
        }
        using var busy = System.Diagnostics.Process.Start("/bin/sh", ["-c", "while :; do :; done"]);
        try
        {
            File.WriteAllText(Path.Combine(dir, "cgroup.procs"), busy.Id.ToString());
            // Traced again until a window saw throttling (a starved loop may not run at all in one 1.5 s window).
            Poll.Until(() =>
            {
                (int code, StringConsole console) = Run("trace", "cpu-throttle", "--cgroup", dir, "--interval", "300ms", "--for", "1500ms", "--json");
                Assert.Equal(ExitCodes.Ok, code);
                var events = console.OutText.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                    .Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement).ToList();
                Assert.Equal("summary", events[^1].GetProperty("type").GetString());
                return events.Where(e => e.GetProperty("type").GetString() == "event").Aggregate(0UL, (a, e) => a + e.GetProperty("throttled").GetUInt64());
            }, throttled => throttled > 0, "trace cpu-throttle reporting throttled periods of the 10% loop", intervalMs: 0);
        }
        finally
        {
            busy.Kill();
            busy.WaitForExit();
        }
    }
}
