using Process = System.Diagnostics.Process;
using System.Text.Json;
using Kscope.Cli.Infrastructure;
using Kscope.Diagnostics.Trace;
using Kscope.TestKit;

namespace Kscope.Cli.Tests.Trace;

/// <summary>
/// `--container ID` on real cgroups named the way container runtimes name them (a 64-hex id in
/// cgroupfs/docker/ID on a v1 hierarchy, system.slice/docker-ID.scope on the unified one), and
/// `--interval` on aggregating gadgets.
/// </summary>
[Trait("Category", "Kernel")]
public sealed class TraceTargetTests
{
    private static (int Code, StringConsole Console) Run(params string[] args)
    {
        var console = new StringConsole();
        int code = KscopeCli.Invoke(console, ["trace", .. args]);
        return (code, console);
    }

    private static List<JsonElement> JsonLines(StringConsole console) =>
        console.OutText.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();

    /// <summary>A container-like cgroup (TestKit's fixture shares the docker/ and system.slice parents); skips only when the machine cannot have the layout's hierarchy.</summary>
    private static TempCgroup Layout(string layout, string id) => layout switch
    {
        "v1-docker" => TempCgroup.CreateV1("cpu", $"docker/{id}"),
        "v2-scope" => TempCgroup.CreateV2($"system.slice/docker-{id}.scope"),
        _ => throw new ArgumentException(layout, nameof(layout)),
    };

    [Theory]
    [InlineData("v1-docker", 12)]
    [InlineData("v2-scope", 64)]
    public void Container_ProcessInContainerCgroup_OnlyItsEventsAreSeen(string layout, int prefix)
    {
        Requires.Root();
        string id = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        using TempCgroup cg = Layout(layout, id);
        string dir = cg.Dir;
        string mine = $"/nonexistent-container-{id[..8]}";
        string other = $"/nonexistent-host-{id[..8]}";
        // Started before the trace (a running container); the cat children fork after it starts.
        using var inside = Process.Start("/bin/sh", ["-c", $"while :; do cat {mine} 2>/dev/null; sleep 0.05; done"]);
        using var outside = Process.Start("/bin/sh", ["-c", $"while :; do cat {other} 2>/dev/null; sleep 0.05; done"]);
        try
        {
            File.WriteAllText(Path.Combine(dir, "cgroup.procs"), inside.Id.ToString());
            Assert.Contains(id, File.ReadAllText($"/proc/{inside.Id}/cgroup"), StringComparison.Ordinal);

            TraceFilter filter = TargetResolver.ForContainer(new TraceFilter(), id[..prefix]);
            // The loop's short-lived cat children may be in the cgroup at that moment too, never the outside loop.
            Assert.Contains(inside.Id, filter.Pids);
            Assert.DoesNotContain(outside.Id, filter.Pids);
            Assert.True(filter.FollowChildren);
            Assert.Equal(cg.Path, filter.CgroupDirectory);

            (int code, StringConsole console) = Run("open", "--container", id[..prefix], "--for", "2s", "--json");
            Assert.True(code == ExitCodes.Ok, $"exit {code}: {console.ErrorText}");
            var events = JsonLines(console).Where(l => l.GetProperty("type").GetString() == "event").ToList();
            Assert.Contains(events, e => e.GetProperty("path").GetString() == mine && e.GetProperty("comm").GetString() == "cat");
            Assert.DoesNotContain(events, e => e.GetProperty("path").GetString() == other);
        }
        finally
        {
            foreach (Process p in new[] { inside, outside })
            {
                p.Kill(entireProcessTree: true);
                p.WaitForExit();
            }
        }
    }

    [Fact]
    public void Container_NoSuchId_IsUsageErrorNamingIt()
    {
        (int code, StringConsole console) = Run("open", "--container", "0123456789abcdef0123");
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("container '0123456789abcdef0123'", console.ErrorText, StringComparison.Ordinal);
    }

    [Fact]
    public void Container_ShortPrefix_IsUsageError()
    {
        (int code, StringConsole console) = Run("open", "--container", "abc");
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("at least 12 hex digits", console.ErrorText, StringComparison.Ordinal);
    }

    [Fact]
    public void Container_NameOfACgroupNotAnId_IsUsageErrorPointingToCgroup()
    {
        Requires.Root();
        using var cgroups = CgroupSet.Create($"kscope-notacontainer-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}");
        using var member = Process.Start("/bin/sh", ["-c", $"{cgroups.EnterScript} && exec sleep 30"]);
        try
        {
            for (int i = 0; i < 250 && !cgroups.Pids().Contains(member.Id); i++)
            {
                Thread.Sleep(20);
            }
            string name = Path.GetFileName(cgroups.Dirs.First());
            (int code, StringConsole console) = Run("open", "--container", name, "--for", "1s");
            Assert.Equal(ExitCodes.Usage, code);
            Assert.Contains($"--container '{name}' is not a container id", console.ErrorText, StringComparison.Ordinal);
            Assert.Contains("use --cgroup /sys/fs/cgroup/", console.ErrorText, StringComparison.Ordinal);
            Assert.Contains(name, console.ErrorText, StringComparison.Ordinal);
        }
        finally
        {
            member.Kill();
            member.WaitForExit();
        }
    }

    /// <summary>syscalls with --interval: cumulative rows every interval, then totals; streamed slow calls interleave as whole lines.</summary>
    [Fact]
    public void Interval_Syscalls_RowsEveryIntervalThenTotals()
    {
        Requires.Root();
        (int code, StringConsole console) = Run("syscalls", "--json", "--interval", "150ms", "--slow", "0",
            "--", "sh", "-c", "i=0; while [ $i -lt 12 ]; do /bin/cat /dev/null; /bin/sleep 0.1; i=$((i+1)); done");
        Assert.True(code == ExitCodes.Ok, $"exit {code}: {console.ErrorText}");
        var lines = JsonLines(console); // every line parses: interval rows and streamed events do not tear each other
        var intervalExecs = lines.Where(l => l.GetProperty("type").GetString() == "interval" && l.GetProperty("syscall").GetString() == "execve")
            .Select(l => l.GetProperty("count").GetUInt64()).ToList();
        Assert.True(intervalExecs.Count >= 3, $"{intervalExecs.Count} interval rows for execve in ~1.2 s at 150ms");
        Assert.Equal(intervalExecs.Order(), intervalExecs); // cumulative since the start
        JsonElement total = lines.Single(l => l.GetProperty("type").GetString() == "total" && l.GetProperty("syscall").GetString() == "execve");
        // sh, 12 cat, 12 sleep (absolute paths); the failed ones are the wrapper's PATH search for "sh"
        Assert.Equal(25UL, total.GetProperty("count").GetUInt64() - total.GetProperty("errors").GetUInt64());
        Assert.True(lines.Count(l => l.GetProperty("type").GetString() == "event") > 12);
        Assert.Equal("summary", lines[^1].GetProperty("type").GetString());
    }

    [Fact]
    public void Interval_Runqlat_TextHistogramsRepeat()
    {
        Requires.Root();
        (int code, StringConsole console) = Run("runqlat", "--interval", "100ms", "--", "sh", "-c", "sleep 1; sleep 1");
        Assert.True(code == ExitCodes.Ok, $"exit {code}: {console.ErrorText}");
        int intervals = console.OutText.Split("-- run-queue latency (interval) --").Length - 1;
        Assert.True(intervals >= 2, console.OutText);
        Assert.Contains("-- run-queue latency (total) --", console.OutText, StringComparison.Ordinal);
    }
}
