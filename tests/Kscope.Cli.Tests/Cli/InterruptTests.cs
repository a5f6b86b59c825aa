using System.Diagnostics;
using System.Text.Json;
using Kscope.Cli.Infrastructure;
using Kscope.Formats.Pprof;
using Kscope.Native;

namespace Kscope.Cli.Tests.Cli;

/// <summary>
/// Ctrl-C and SIGTERM against a real kscope process (KSCOPE_BIN or dotnet kscope.dll): the command detaches, writes
/// what it promised (trace summary and histograms, the profile file, bpf run's maps), exits 130 (143 for SIGTERM),
/// and every BPF program and link it held is gone afterwards (ids read from /proc/PID/fdinfo, checked with bpftool).
/// A second Ctrl-C quits at once. Targets are services already running, multi-threaded and busy (goprog -serve).
/// </summary>
[Trait("Category", "Kernel")]
public sealed class InterruptTests
{
    private const int SigInt = 2;
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(90);

    [Fact]
    public void TraceExec_SigInt_SummaryExit130AndNothingLeftAttached()
    {
        Requires.Root();
        using KscopeProcess k = KscopeProcess.Start(["trace", "exec"]);
        k.WaitFor("Ctrl-C to stop", s_deadline, stderr: true);
        var held = WaitForKernelObjects(k);
        Tools.Run("/bin/true"); // an exec while attached
        k.Signal(SigInt);
        int code = k.WaitForExit(s_deadline);
        Assert.True(code == ExitCodes.Interrupted, $"exit {code}\n{k.Err}");
        Assert.Contains("exec: ", k.Err, StringComparison.Ordinal);
        Assert.Contains("ended by interrupted", k.Err, StringComparison.Ordinal);
        AssertReleased(held);
    }

    [Fact]
    public void TraceSyscalls_SigIntOnRunningService_JsonTotalsAndSummary()
    {
        Requires.Root();
        var (service, _) = GoProgram.Serve();
        using (service)
        {
            try
            {
                using KscopeProcess k = KscopeProcess.Start(["trace", "syscalls", "--pid", service.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), "--json"]);
                var held = WaitForKernelObjects(k);
                Thread.Sleep(1500); // the busy service makes syscalls meanwhile
                k.Signal(SigInt);
                int code = k.WaitForExit(s_deadline);
                Assert.True(code == ExitCodes.Interrupted, $"exit {code}\n{k.Err}");
                List<JsonElement> lines = JsonLines(k.Out);
                Assert.Contains(lines, l => l.GetProperty("type").GetString() == "total" && l.GetProperty("count").GetInt64() > 0);
                JsonElement summary = lines[^1];
                Assert.Equal("summary", summary.GetProperty("type").GetString());
                Assert.Equal("interrupted", summary.GetProperty("end").GetString());
                AssertReleased(held);
            }
            finally
            {
                service.Kill();
            }
        }
    }

    [Fact]
    public void TraceOpen_SigTerm_SummaryExit143()
    {
        Requires.Root();
        using KscopeProcess k = KscopeProcess.Start(["trace", "open"]);
        k.WaitFor("Ctrl-C to stop", s_deadline, stderr: true);
        var held = WaitForKernelObjects(k);
        k.Signal(Signals.SigTerm);
        int code = k.WaitForExit(s_deadline);
        Assert.True(code == ExitCodes.Terminated, $"exit {code}\n{k.Err}");
        Assert.Contains("ended by interrupted", k.Err, StringComparison.Ordinal);
        AssertReleased(held);
    }

    [Fact]
    public async Task TraceSyscalls_CtrlCOnPty_HistogramsSummaryExit130()
    {
        Requires.Root();
        string script = Requires.Tool("script", "bsdutils");
        (string file, string[] prefix) = KscopeProcess.Command();
        string line = string.Join(' ', new[] { "env", "--default-signal=INT,TERM", file }.Concat(prefix).Concat(["trace", "syscalls", "--for", "5m"]).Select(Quote));
        var psi = new ProcessStartInfo(script) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in new[] { "-q", "-e", "-c", line, "/dev/null" })
        {
            psi.ArgumentList.Add(a);
        }
        psi.Environment["NO_COLOR"] = "1";
        using Process p = Process.Start(psi)!;
        var output = new System.Text.StringBuilder();
        Task reader = Task.Run(() =>
        {
            var buffer = new char[4096];
            int n;
            while ((n = p.StandardOutput.Read(buffer, 0, buffer.Length)) > 0)
            {
                lock (output)
                {
                    output.Append(buffer, 0, n);
                }
            }
        });
        string Text()
        {
            lock (output)
            {
                return output.ToString();
            }
        }
        try
        {
            WaitUntil(() => Text().Contains("Ctrl-C to stop", StringComparison.Ordinal) || p.HasExited, s_deadline);
            Assert.False(p.HasExited, Text());
            Thread.Sleep(1000); // let it trace a moment: the histogram has calls in it
            p.StandardInput.Write('\u0003'); // the terminal's Ctrl-C: the pty sends SIGINT to its foreground group
            p.StandardInput.Flush();
            Assert.True(p.WaitForExit(s_deadline), "kscope did not stop on Ctrl-C\n" + Text());
            await reader.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
            string text = Text();
            Assert.True(p.ExitCode == ExitCodes.Interrupted, $"exit {p.ExitCode}\n{KscopeProcess.Tail(text)}");
            Assert.Contains("latency of all syscalls:", text, StringComparison.Ordinal);
            Assert.Contains("syscalls: ", text, StringComparison.Ordinal);
            Assert.Contains("ended by interrupted", text, StringComparison.Ordinal);
        }
        finally
        {
            if (!p.HasExited)
            {
                p.Kill(entireProcessTree: true);
            }
        }
    }

    [Fact]
    public void Trace_SecondSigIntWhileStopIsStuck_QuitsAtOnce()
    {
        Requires.Root();
        // stdout is never read: once the pipe is full kscope blocks writing events, and after the first SIGINT it
        // blocks again writing the rest; only the second SIGINT (the default action) can end it.
        using var busy = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", "while :; do /bin/true; done"]) { UseShellExecute = false })!;
        try
        {
            using KscopeProcess k = KscopeProcess.Start(["trace", "exec"], readStdout: false);
            k.ShrinkStdoutPipe(); // full after a few dozen events, even where exec is slow (the emulated guests)
            k.WaitFor("Ctrl-C to stop", s_deadline, stderr: true);
            WaitUntil(() => PipeFull(k.Pid), s_deadline, () => $"kscope never blocked writing its stdout: {k.StdoutPending()} bytes unread, "
                + "threads' wchan: " + string.Join(' ', Directory.EnumerateDirectories($"/proc/{k.Pid}/task").Select(t => Procfs($"{t}/wchan"))) + "\n" + k.Err);
            k.Signal(SigInt);
            k.WaitFor("again quits at once", s_deadline, stderr: true);
            Thread.Sleep(200);
            Assert.False(k.HasExited, "the first SIGINT should not end a kscope blocked on its output\n" + k.Err);
            k.Signal(SigInt);
            int code = k.WaitForExit(s_deadline);
            Assert.Equal(128 + SigInt, code); // killed by SIGINT (the runtime reports 128 + signal)
            Assert.DoesNotContain("ended by", k.Err, StringComparison.Ordinal);
        }
        finally
        {
            busy.Kill();
        }

        // kscope's writing thread sleeps in pipe_write: its stdout is full.
        static bool PipeFull(int pid) => Directory.EnumerateDirectories($"/proc/{pid}/task")
            .Any(t => Procfs($"{t}/wchan") is { } w && (w.EndsWith("pipe_write", StringComparison.Ordinal) || w == "pipe_wait"));
    }

    [Fact]
    public void ProfilePid_SigIntOnRunningService_WritesValidProfileAndFlameGraph()
    {
        Requires.Root();
        using var dir = new TempDirectory("kscope-int-");
        var (service, _) = GoProgram.Serve();
        using (service)
        {
            try
            {
                string output = dir["cpu.pb.gz"], flame = dir["cpu.svg"];
                using KscopeProcess k = KscopeProcess.Start(["profile", "--pid", service.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), "--for", "10m", "-o", output, "--flame", flame]);
                k.WaitFor("Ctrl-C", s_deadline, stderr: true);
                var held = WaitForKernelObjects(k, perfEvents: true);
                Thread.Sleep(2000); // samples of the busy service
                k.Signal(SigInt);
                int code = k.WaitForExit(s_deadline);
                Assert.True(code == ExitCodes.Interrupted, $"exit {code}\n{k.Out}\n{k.Err}");
                Assert.Contains("interrupted", k.Out, StringComparison.Ordinal);
                // Written and valid: kscope reads it back and go tool pprof opens it (exit 0). How many samples land depends
                // on the sampler following the service's threads; the command case below checks the functions.
                Profile profile = ProfileReader.Read(File.ReadAllBytes(output));
                Assert.Contains(profile.SampleTypes, t => t.Type == "cpu");
                Assert.Contains("Type: cpu", GoPprofTopText(output), StringComparison.Ordinal);
                Assert.StartsWith("<?xml", File.ReadAllText(flame), StringComparison.Ordinal);
                AssertReleased(held);
            }
            finally
            {
                service.Kill();
            }
        }
    }

    [Fact]
    public void ProfileCommand_SigInt_WritesProfileAndStopsTheCommand()
    {
        Requires.Root();
        using var dir = new TempDirectory("kscope-int-");
        string output = dir["cmd.pb.gz"];
        using KscopeProcess k = KscopeProcess.Start(["profile", "-o", output, "--", GoProgram.Exe, "-for", "10m"]);
        k.WaitFor("Ctrl-C", s_deadline, stderr: true);
        WaitForKernelObjects(k, perfEvents: true);
        Thread.Sleep(2000);
        k.Signal(SigInt);
        int code = k.WaitForExit(s_deadline);
        Assert.True(code == ExitCodes.Interrupted, $"exit {code}\n{k.Out}\n{k.Err}");
        Profile profile = ProfileReader.Read(File.ReadAllBytes(output));
        Assert.Contains(profile.Functions, f => f.Name == "main.hotInner");
        Assert.DoesNotContain(Directory.EnumerateDirectories("/proc"), d => Procfs($"{d}/cmdline")?.StartsWith(GoProgram.Exe + "\0-for\u000010m", StringComparison.Ordinal) == true);
    }

    [Fact]
    public void BpfRun_SigInt_DrainsAndDumpsMapsThenReleases()
    {
        Requires.Root();
        string hello = Path.Combine(Tools.RepoRoot, "bpf", "examples", "hello.bpf.o");
        using KscopeProcess k = KscopeProcess.Start(["bpf", "run", hello, "--record", "event"]);
        k.WaitFor("# attached", s_deadline);
        var held = WaitForKernelObjects(k);
        WaitUntil(() =>
        {
            File.ReadAllBytes("/proc/self/stat"); // an openat for the example's tracepoint
            return k.Out.Contains("events: {pid=", StringComparison.Ordinal);
        }, s_deadline);
        k.Signal(SigInt);
        int code = k.WaitForExit(s_deadline);
        Assert.True(code == ExitCodes.Interrupted, $"exit {code}\n{k.Err}");
        Assert.Contains("# ring buffer events:", k.Out, StringComparison.Ordinal);
        Assert.Contains(".bss: total_opens=", k.Out, StringComparison.Ordinal);
        Assert.Contains("opens_by_tgid[", k.Out, StringComparison.Ordinal);
        AssertReleased(held);
    }

    [Fact]
    public void PprofTop_SigIntWhileFetchingLiveEndpoint_Exits130AtOnce()
    {
        var (service, address) = GoProgram.Serve();
        using (service)
        {
            try
            {
                using KscopeProcess k = KscopeProcess.Start(["pprof", "top", $"http://{address}/debug/pprof/profile", "--seconds", "600"]);
                k.WaitFor("fetching http://", s_deadline, stderr: true);
                k.Signal(SigInt);
                int code = k.WaitForExit(s_deadline); // not after the 600 s the endpoint would take
                Assert.True(code == ExitCodes.Interrupted, $"exit {code}\n{k.Err}");
                Assert.Contains("interrupted while fetching", k.Err, StringComparison.Ordinal);
                Assert.Equal("", k.Out);
                Assert.False(service.HasExited);
            }
            finally
            {
                service.Kill();
            }
        }
    }

    /// <summary>Polls until kscope holds BPF programs (or perf events); returns what it holds then.</summary>
    private static (HashSet<uint> Programs, HashSet<uint> Links, int PerfEvents) WaitForKernelObjects(KscopeProcess k, bool perfEvents = false)
    {
        (HashSet<uint> Programs, HashSet<uint> Links, int PerfEvents) held = default;
        WaitUntil(() =>
        {
            Assert.False(k.HasExited, $"kscope exited early\n{k.Out}\n{k.Err}");
            held = k.KernelObjects();
            return perfEvents ? held.PerfEvents > 0 : held.Programs.Count > 0;
        }, s_deadline);
        return held;
    }

    /// <summary>Every program and link kscope held is gone once it exited (bpftool cannot find the ids).</summary>
    private static void AssertReleased((HashSet<uint> Programs, HashSet<uint> Links, int PerfEvents) held)
    {
        string bpftool = Requires.Tool("bpftool", "bpftool");
        foreach ((string kind, HashSet<uint> ids) in new[] { ("prog", held.Programs), ("link", held.Links) })
        {
            foreach (uint id in ids)
            {
                // Freed when the last fd closes; link ids are released by a deferred work item, so poll.
                WaitUntil(() => Tools.Run(bpftool, kind, "show", "id", id.ToString(System.Globalization.CultureInfo.InvariantCulture)).ExitCode != 0, TimeSpan.FromSeconds(30),
                    () => $"bpftool {kind} show id {id} still finds kscope's {kind} after it exited");
            }
        }
    }

    private static void WaitUntil(Func<bool> condition, TimeSpan deadline, Func<string>? describe = null)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < deadline, $"condition not met within {deadline.TotalSeconds:0}s" + (describe is null ? "" : ": " + describe()));
            Thread.Sleep(50);
        }
    }

    private static List<JsonElement> JsonLines(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();

    private static string GoPprofTopText(string profile) => GoProgram.Go("tool", "pprof", "-top", profile);

    private static string? Procfs(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string Quote(string s) => "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
