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
        int code = Program.BuildRoot(console).Parse(["trace", .. args]).Invoke();
        return (code, console);
    }

    private static List<JsonElement> JsonLines(StringConsole console) =>
        console.OutText.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();

    private static string? Mount(Func<string[], bool> match) =>
        File.ReadAllLines("/proc/self/mountinfo").Select(l => l.Split(' ')).FirstOrDefault(match)?[4];

    /// <summary>A container-like cgroup: (hierarchy root, path under it); null when this layout has no mounted hierarchy.</summary>
    private static (string Root, string Relative)? Layout(string layout, string id) => layout switch
    {
        "v1-docker" => Mount(p => p.Contains("cgroup") && p[^1].Split(',').Contains("cpu")) is string cpu ? (cpu, $"docker/{id}") : null,
        "v2-scope" => Mount(p => p.Contains("cgroup2")) is string unified ? (unified, $"system.slice/docker-{id}.scope") : null,
        _ => throw new ArgumentException(layout, nameof(layout)),
    };

    [Theory]
    [InlineData("v1-docker", 12)]
    [InlineData("v2-scope", 64)]
    public void Container_ProcessInContainerCgroup_OnlyItsEventsAreSeen(string layout, int prefix)
    {
        Requires.Root();
        string id = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        if (Layout(layout, id) is not (string root, string relative))
        {
            Requires.KernelLacks($"no cgroup hierarchy for layout {layout}");
            return;
        }
        string dir = Path.Combine(root, relative);
        bool parentCreated = !Directory.Exists(Path.GetDirectoryName(dir)!);
        Directory.CreateDirectory(dir);
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
            Assert.Equal("/" + relative, filter.CgroupDirectory);

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
            RemoveCgroup(dir);
            if (parentCreated)
            {
                RemoveCgroup(Path.GetDirectoryName(dir)!);
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
        Assert.Contains("at least 6 characters", console.ErrorText, StringComparison.Ordinal);
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

    private static void RemoveCgroup(string dir)
    {
        for (int i = 0; i < 100 && Directory.Exists(dir); i++)
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
    }
}
