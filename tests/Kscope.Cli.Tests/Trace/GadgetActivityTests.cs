using System.Text.Json;
using Kscope.Cli.Infrastructure;
using Kscope.TestKit;

namespace Kscope.Cli.Tests.Trace;

/// <summary>
/// Every eBPF gadget on the real kernel, through `kscope trace GADGET --json -- COMMAND`: the test's
/// command causes the activity, the gadget must see it, and (filters) must not see other processes.
/// </summary>
[Trait("Category", "Kernel")]
public sealed class GadgetActivityTests
{
    private static List<JsonElement> Trace(params string[] args)
    {
        Requires.Root();
        var console = new StringConsole();
        int code = KscopeCli.Invoke(console, ["trace", .. args]);
        Assert.True(code == ExitCodes.Ok, $"exit {code}: {console.ErrorText}");
        var lines = console.OutText.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
        JsonElement summary = lines[^1];
        Assert.Equal("summary", summary.GetProperty("type").GetString());
        Assert.Equal(0UL, summary.GetProperty("lost").GetUInt64());
        Assert.Equal("command exited", summary.GetProperty("end").GetString());
        return lines;
    }

    /// <summary>A loopback listener, a connection to it accepted and closed, then a connect to a port nothing listens on (refused).</summary>
    private const string LoopbackConnects =
        "import socket\ns=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(); p=s.getsockname()[1]\n" +
        "c=socket.create_connection(('127.0.0.1',p)); a,_=s.accept(); c.close(); a.close()\n" +
        "r=socket.socket(); r.bind(('127.0.0.1',0)); q=r.getsockname()[1]; r.close()\n" +
        "try:\n  socket.create_connection(('127.0.0.1',q))\nexcept ConnectionRefusedError: pass\n";

    private static IEnumerable<JsonElement> Of(List<JsonElement> lines, string type) => lines.Where(l => l.GetProperty("type").GetString() == type);

    [Fact]
    public void Exec_Command_FirstExecWithArgv()
    {
        var lines = Trace("exec", "--json", "--", "/bin/true", "kscope-argv-1", "two words");
        JsonElement first = Of(lines, "event").First();
        Assert.Equal("/bin/true", first.GetProperty("filename").GetString());
        Assert.Equal(["/bin/true", "kscope-argv-1", "two words"], first.GetProperty("args").EnumerateArray().Select(a => a.GetString()!));
        Assert.Equal(0, first.GetProperty("result").GetInt64());
        Assert.Equal("true", first.GetProperty("comm").GetString());
    }

    [Fact]
    public void Open_Command_FirstOpenAndKnownErrno()
    {
        string missing = $"/nonexistent-kscope-{Environment.ProcessId}";
        var events = Of(Trace("open", "--json", "--", "cat", missing), "event").ToList();
        Assert.Equal("/etc/ld.so.cache", events[0].GetProperty("path").GetString()); // the dynamic loader's first open
        JsonElement e = events.Single(x => x.GetProperty("path").GetString() == missing);
        Assert.Equal("ENOENT", e.GetProperty("error").GetString());
        Assert.Equal(JsonValueKind.Null, e.GetProperty("fd").ValueKind);
    }

    /// <summary>--failed (opensnoop -x): the kernel sends only the opens that failed; cat's successful ones are not there.</summary>
    [Fact]
    public void Open_Failed_OnlyTheFailedOpens()
    {
        string missing = $"/nonexistent-kscope-{Environment.ProcessId}";
        var events = Of(Trace("open", "--failed", "--json", "--", "sh", "-c", $"cat /etc/hostname {missing} >/dev/null 2>&1; true"), "event").ToList();
        Assert.Contains(events, e => e.GetProperty("path").GetString() == missing && e.GetProperty("error").GetString() == "ENOENT");
        Assert.All(events, e => Assert.Equal(JsonValueKind.Null, e.GetProperty("fd").ValueKind));
        Assert.DoesNotContain(events, e => e.GetProperty("path").GetString() is "/etc/hostname" or "/etc/ld.so.cache");
    }

    [Fact]
    public void Open_OtherProcess_IsFilteredOutInKernel()
    {
        string other = $"/nonexistent-other-{Environment.ProcessId}";
        using var noise = System.Diagnostics.Process.Start("/bin/sh", ["-c", $"while :; do cat {other} 2>/dev/null; done"]);
        try
        {
            var events = Of(Trace("open", "--json", "--", "sh", "-c", "sleep 0.3; cat /nonexistent-mine 2>/dev/null; true"), "event").ToList();
            Assert.Contains(events, e => e.GetProperty("path").GetString() == "/nonexistent-mine");
            Assert.DoesNotContain(events, e => e.GetProperty("path").GetString() == other);
        }
        finally
        {
            noise.Kill(entireProcessTree: true);
            noise.WaitForExit();
        }
    }

    [Fact]
    public void Syscalls_Sleep_CountsAndStreamsTheSlowCall()
    {
        var lines = Trace("syscalls", "--json", "--slow", "50ms", "--", "sleep", "0.1");
        JsonElement slow = Of(lines, "event").Single(e => e.GetProperty("syscall").GetString() == "clock_nanosleep");
        Assert.True(slow.GetProperty("latency_ns").GetUInt64() >= 90_000_000);
        JsonElement total = Of(lines, "total").Single(e => e.GetProperty("syscall").GetString() == "clock_nanosleep");
        Assert.Equal(1UL, total.GetProperty("count").GetUInt64());
        Assert.Contains(Of(lines, "total"), e => e.GetProperty("syscall").GetString() == "execve");
    }

    [Fact]
    public void OffCpu_SleepingChild_BlockedTimeWithKernelStack()
    {
        var lines = Trace("offcpu", "--json", "--slow", "50ms", "--", "sleep", "0.2");
        JsonElement e = Of(lines, "total").Single(x => x.GetProperty("comm").GetString() == "sleep");
        Assert.True(e.GetProperty("total_ns").GetUInt64() >= 150_000_000);
        Assert.Contains(e.GetProperty("kernel_stack").EnumerateArray(), f => f.GetString()!.Contains("schedule", StringComparison.Ordinal));
    }

    [Fact]
    public void Futex_TwoThreadsOnOneLock_ContendedWaits()
    {
        Requires.Tool("python3", "python3");
        const string script = "import threading,time\nl=threading.Lock()\ndef w():\n  for _ in range(5):\n    with l: time.sleep(0.02)\nt=[threading.Thread(target=w) for _ in range(2)]\n[x.start() for x in t]\n[x.join() for x in t]\n";
        var rows = Of(Trace("futex", "--json", "--", "/usr/bin/python3", "-c", script), "total").ToList();
        Assert.True(rows.Sum(r => (long)r.GetProperty("waits").GetUInt64()) >= 3, string.Join('\n', rows));
        Assert.True(rows.Max(r => r.GetProperty("max_ns").GetUInt64()) >= 5_000_000);
    }

    [Fact]
    public void Runqlat_MoreBusyThreadsThanCpus_WaitsMeasured()
    {
        int n = Environment.ProcessorCount * 2 + 1;
        var rows = Of(Trace("runqlat", "--json", "--", "sh", "-c", $"for i in $(seq {n}); do (i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done) & done; wait"), "total").ToList();
        Assert.True(rows.Sum(r => (long)r.GetProperty("count").GetUInt64()) > n, string.Join('\n', rows));
        Assert.True(rows.Max(r => r.GetProperty("max_ns").GetUInt64()) >= 1_000_000); // someone waited a millisecond or more
    }

    [Fact]
    public void Tcp_LoopbackListenerClientAndRefusedConnect_AllSeen()
    {
        Requires.Tool("python3", "python3");
        var events = Of(Trace("tcp", "--json", "--", "/usr/bin/python3", "-c", LoopbackConnects), "event").ToList();
        Assert.Contains(events, e => e.GetProperty("event").GetString() == "listen");
        Assert.Contains(events, e => e.GetProperty("event").GetString() == "connect" && e.GetProperty("ok").GetBoolean() && e.GetProperty("daddr").GetString() == "127.0.0.1");
        Assert.Contains(events, e => e.GetProperty("event").GetString() == "accept");
        Assert.Contains(events, e => e.GetProperty("event").GetString() == "connect" && !e.GetProperty("ok").GetBoolean());
        Assert.Contains(events, e => e.GetProperty("event").GetString() == "close");
    }

    /// <summary>--failed: the kernel sends only what went wrong; the working connection's records are not there.</summary>
    [Fact]
    public void Tcp_Failed_OnlyTheRefusedConnect()
    {
        Requires.Tool("python3", "python3");
        var events = Of(Trace("tcp", "--failed", "--json", "--", "/usr/bin/python3", "-c", LoopbackConnects), "event").ToList();
        JsonElement refused = Assert.Single(events);
        Assert.Equal("connect", refused.GetProperty("event").GetString());
        Assert.Equal("ECONNREFUSED", refused.GetProperty("error").GetString());
    }

    [Fact]
    public void Signal_KillOfChild_GeneratedAndNamed()
    {
        var events = Of(Trace("signal", "--json", "--", "sh", "-c", "sleep 5 & kill -TERM $!; wait"), "event").ToList();
        JsonElement e = events.First(x => x.GetProperty("signal").GetString() == "SIGTERM");
        Assert.Equal("generate", e.GetProperty("event").GetString());
        Assert.Equal("sh", e.GetProperty("comm").GetString());
        Assert.Equal("delivered", e.GetProperty("result").GetString());
    }

    [Fact]
    public void Oom_ChildInMemoryLimitedCgroup_KillReported()
    {
        Requires.Tool("python3", "python3");
        using TempCgroup cg = TempCgroup.Create("memory");
        string dir = cg.Dir;
        if (cg.V2)
        {
            cg.Write("memory.max", (32 << 20).ToString());
            cg.Write("memory.swap.max", "0");
        }
        else
        {
            cg.Write("memory.limit_in_bytes", (32 << 20).ToString());
        }
        var events = Of(Trace("oom", "--json", "--", "sh", "-c",
            $"echo $$ > {dir}/cgroup.procs; exec python3 -c \"a=[]\nwhile True: a.append(bytearray(1<<20))\""), "event").ToList();
        JsonElement e = Assert.Single(events);
        Assert.Equal("python3", e.GetProperty("victim_comm").GetString());
        Assert.True(e.GetProperty("anon_rss_kb").GetUInt64() > 16 << 10);
    }
}
