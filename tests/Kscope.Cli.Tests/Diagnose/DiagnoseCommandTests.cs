using System.Globalization;
using System.Text.Json;
using Kscope.Cli.Infrastructure;
using Kscope.Cli.Tests.Cli;

namespace Kscope.Cli.Tests.Diagnose;

/// <summary>
/// `kscope diagnose` on the TestKit's Go HTTP service, already running and under loopback load: in a cgroup with a
/// 0.3-CPU quota and GOMAXPROCS=2 it finds the throttling with the share cpu.stat shows over the same window and
/// advises GOMAXPROCS; without a quota and lightly loaded it finds nothing above info. The report (findings.json,
/// cpu.pb.gz) is written in --out, also after Ctrl-C.
/// </summary>
[Trait("Category", "Kernel")]
public sealed class DiagnoseCommandTests
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task DiagnosePid_GoServiceUnderPointThreeCpuQuota_ThrottlingMatchesCpuStatAndAdvisesGomaxprocs()
    {
        Requires.Root();
        using var svc = ServiceUnderLoad.Start(new() { Gomaxprocs = 2, Clients = 4, CpuQuota = 0.3 });
        string quotaDir = svc.Cgroups!.QuotaDir!;
        using var dir = new TempDirectory("kscope-diag-");
        string outDir = dir["report"];
        // The oracle: the test reads cpu.stat itself every 10 ms while kscope runs, stamped with the same clock
        // (CLOCK_MONOTONIC), and takes the deltas over kscope's window. Deltas around the whole run are not it: on a
        // one-vCPU guest kscope's start-up took most of the run, and the service was throttled harder then than while
        // kscope's probes shared its one CPU.
        var samples = new List<(ulong Ns, double Periods, double Throttled)>();
        using var stop = new CancellationTokenSource();
        Task sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var (p, t) = CpuStat(quotaDir);
                lock (samples)
                {
                    samples.Add((Kscope.Diagnostics.Diagnose.MonotonicClock.NowNs(), p, t));
                }
                await Task.Delay(10).ConfigureAwait(false);
            }
        });
        var console = new StringConsole();
        int code = await KscopeCli.InvokeAsync(console, ["diagnose", "--pid", svc.Pid.ToString(CultureInfo.InvariantCulture), "--for", "6s", "--out", outDir, "--json"]);
        await Task.Delay(50);
        stop.Cancel();
        await sampler;
        string detail = $"exit {code}\nstdout: {console.OutText}\nstderr: {console.ErrorText}";

        using JsonDocument doc = JsonDocument.Parse(console.OutText);
        JsonElement root = doc.RootElement;
        Assert.Equal("kscope.diagnose/v1", root.GetProperty("schema").GetString());
        JsonElement finding = root.GetProperty("findings").EnumerateArray().FirstOrDefault(f => f.GetProperty("kind").GetString() == "cpu_throttling");
        Assert.True(finding.ValueKind == JsonValueKind.Object, "no cpu_throttling finding: " + detail);
        JsonElement evidence = finding.GetProperty("evidence");

        JsonElement window = root.GetProperty("window");
        ulong windowStart = window.GetProperty("start_time_ns").GetUInt64(), windowEnd = window.GetProperty("end_time_ns").GetUInt64();
        var before = samples.LastOrDefault(s => s.Ns <= windowStart);
        var after = samples.FirstOrDefault(s => s.Ns >= windowEnd);
        Assert.True(before.Ns > 0 && after.Ns > 0, $"the test's cpu.stat samples ({samples.Count}) do not cover the window {windowStart}..{windowEnd}: {detail}");
        double periods = after.Periods - before.Periods, throttled = after.Throttled - before.Throttled;
        Assert.True(periods >= 20, $"only {periods} enforcement periods passed: {detail}");
        double expected = throttled / periods;
        double seen = evidence.GetProperty("throttled_share").GetDouble();
        Assert.True(Math.Abs(seen - expected) <= 0.10, $"throttled_share {seen:F3}, cpu.stat says {expected:F3} ({throttled}/{periods}); loadavg {File.ReadAllText("/proc/loadavg").Trim()}; {detail}");
        Assert.True(evidence.GetProperty("nr_periods").GetInt64() <= periods, detail);

        Assert.Equal(2, evidence.GetProperty("gomaxprocs").GetInt32());
        Assert.Equal("environment", evidence.GetProperty("gomaxprocs_source").GetString());
        Assert.Equal(0.3, evidence.GetProperty("quota_cpus").GetDouble(), 3);
        Assert.Equal(1, evidence.GetProperty("suggested_concurrency").GetInt32());
        Assert.Contains("GOMAXPROCS=2 > quota 0.3 CPUs", finding.GetProperty("title").GetString(), StringComparison.Ordinal);
        Assert.StartsWith("set GOMAXPROCS=1", finding.GetProperty("advice").GetString(), StringComparison.Ordinal);
        string severity = finding.GetProperty("severity").GetString()!;
        Assert.True(expected < 0.05 || severity is "warning" or "critical", $"severity {severity} at a throttled share of {expected:F3}: {detail}");
        // Exit code: the worst finding's severity (critical 2, warning 1, else 0).
        List<string> severities = root.GetProperty("findings").EnumerateArray().Select(f => f.GetProperty("severity").GetString()!).ToList();
        Assert.Equal(severities.Contains("critical") ? ExitCodes.Failures : severities.Contains("warning") ? ExitCodes.Warnings : ExitCodes.Ok, code);
        Assert.True(finding.GetProperty("lost_ns").GetInt64() > 0, detail);

        // The report on disk is the document on stdout, and the CPU profile of the window is next to it.
        using JsonDocument onDisk = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "findings.json")));
        Assert.Equal(root.GetProperty("window").GetProperty("start_time_ns").GetUInt64(), onDisk.RootElement.GetProperty("window").GetProperty("start_time_ns").GetUInt64());
        Assert.True(File.Exists(Path.Combine(outDir, "cpu.pb.gz")), detail);
        Kscope.Formats.Pprof.Profile cpu = Kscope.Formats.Pprof.ProfileReader.Read(File.ReadAllBytes(Path.Combine(outDir, "cpu.pb.gz")));
        Assert.True(cpu.Samples.Count > 0, "cpu.pb.gz has no samples: " + detail);
        Assert.Contains(root.GetProperty("sources").EnumerateArray(), s => s.GetProperty("name").GetString() == "cpu_sampler" && s.GetProperty("status").GetString() == "started");
    }

    [Fact]
    public void DiagnosePid_LightlyLoadedServiceWithoutQuota_NoFindingAboveInfo()
    {
        Requires.Root();
        using var svc = ServiceUnderLoad.Start(new() { Gomaxprocs = 2, Clients = 1, WorkUnits = 1 });
        using var dir = new TempDirectory("kscope-diag-");
        ulong psiBefore = HostCpuSomeMicros();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        (int code, StringConsole console) = KscopeCli.Run("diagnose", "--pid", svc.Pid.ToString(CultureInfo.InvariantCulture), "--for", "4s", "--out", dir["report"], "--json");
        double hostCpuSome = (HostCpuSomeMicros() - psiBefore) / (clock.Elapsed.TotalMilliseconds * 1000);
        string detail = $"exit {code}; host PSI cpu some {hostCpuSome:P0}; loadavg {File.ReadAllText("/proc/loadavg").Trim()}\nstdout: {console.OutText}\nstderr: {console.ErrorText}";

        using JsonDocument doc = JsonDocument.Parse(console.OutText);
        JsonElement root = doc.RootElement;
        List<JsonElement> above = root.GetProperty("findings").EnumerateArray().Where(f => f.GetProperty("severity").GetString() != "info").ToList();
        // This machine is shared: when other tenants keep the CPUs busy (host PSI cpu some ≥ 10% over the run) the service's
        // threads really wait for a CPU, and cpu_contention is then the right finding; nothing else may be reported.
        if (hostCpuSome >= 0.10)
        {
            above.RemoveAll(f => f.GetProperty("kind").GetString() == "cpu_contention");
        }
        Assert.True(above.Count == 0, "findings above info on a healthy service: " + detail);
        Assert.DoesNotContain(root.GetProperty("findings").EnumerateArray(), f => f.GetProperty("kind").GetString() == "cpu_throttling");
        if (root.GetProperty("findings").GetArrayLength() == 0)
        {
            Assert.Equal("no_problem_found", root.GetProperty("status").GetString());
            Assert.Equal(ExitCodes.Ok, code);
        }
        JsonElement summary = root.GetProperty("summary");
        Assert.True(summary.GetProperty("process_cpus").GetDouble() > 0, "the service ran, the summary says it did not: " + detail);
        Assert.Equal(2, summary.GetProperty("gomaxprocs").GetInt32());
        Assert.True(summary.GetProperty("threads").GetInt32() >= 3, detail);
        // The counters were polled every 100 ms over the window.
        JsonElement threads = root.GetProperty("counters").EnumerateArray().First(c => c.GetProperty("name").GetString() == "threads");
        Assert.True(threads.GetProperty("samples").GetInt32() >= 10, detail);
        Assert.Equal(0, root.GetProperty("drops").GetProperty("counter_points").GetInt64());
    }

    [Fact]
    public void DiagnoseCommand_ExitsWithItsCode_AndReportsTheProcessItStarted()
    {
        Requires.Root();
        using var dir = new TempDirectory("kscope-diag-");
        (int code, StringConsole console) = KscopeCli.Run("diagnose", "--out", dir["report"], "--no-gadgets", "--", "/bin/sh", "-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done");
        string detail = $"exit {code}\nstdout: {console.OutText}\nstderr: {console.ErrorText}";
        Assert.True(code is ExitCodes.Ok or ExitCodes.Warnings or ExitCodes.Failures, detail);
        Assert.Contains("(command exited)", console.OutText, StringComparison.Ordinal);
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir["report"], "findings.json")));
        Assert.Equal("command exited", doc.RootElement.GetProperty("window").GetProperty("ended_by").GetString());
        Assert.Contains(doc.RootElement.GetProperty("sources").EnumerateArray(), s => s.GetProperty("name").GetString() == "counters");
    }

    [Fact]
    public void DiagnosePid_SigIntDuringTheWindow_WritesTheReportAndExits130()
    {
        Requires.Root();
        using var svc = ServiceUnderLoad.Start(new() { Gomaxprocs = 2, Clients = 2 });
        using var dir = new TempDirectory("kscope-diag-");
        using KscopeProcess k = KscopeProcess.Start(["diagnose", "--pid", svc.Pid.ToString(CultureInfo.InvariantCulture), "--for", "10m", "--out", dir["report"]]);
        k.WaitFor("Ctrl-C stops early", s_deadline, stderr: true);
        // Wait until the window is open (the first counter points are on disk only at the end: poll the process's perf events instead).
        Poll.Until(() => k.KernelObjects().PerfEvents > 0 || k.HasExited, "kscope opened its perf events", s_deadline);
        Thread.Sleep(1500);
        k.Signal(2);
        int code = k.WaitForExit(s_deadline);
        Assert.True(code == ExitCodes.Interrupted, $"exit {code}\n{k.Out}\n{k.Err}");
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir["report"], "findings.json")));
        Assert.Equal("interrupted", doc.RootElement.GetProperty("window").GetProperty("ended_by").GetString());
        Assert.True(File.Exists(Path.Combine(dir["report"], "cpu.pb.gz")), k.Err);
        Assert.Contains("kscope diagnose: pid", k.Out, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "diagnose" }, "give exactly one of --pid N, --cgroup PATH or -- COMMAND")]
    [InlineData(new[] { "diagnose", "--pid", "1", "--cgroup", "/sys/fs/cgroup" }, "give exactly one of")]
    [InlineData(new[] { "diagnose", "--pid", "1", "--for", "soon" }, "--for 'soon': give a duration")]
    [InlineData(new[] { "diagnose", "--pid", "1", "--interval", "1ms" }, "--interval 1ms: give 10ms..10s")]
    public void Diagnose_BadCommandLine_UsageErrorNamingTheOption(string[] args, string message)
    {
        (int code, StringConsole console) = KscopeCli.Run(args);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("[ERROR] " + message, console.ErrorText, StringComparison.Ordinal);
        Assert.Contains("see 'kscope diagnose --help'", console.ErrorText, StringComparison.Ordinal);
    }

    [Fact]
    public void Diagnose_OutUnderMissingDirectory_FailsBeforeCapturing()
    {
        (int code, StringConsole console) = KscopeCli.Run("diagnose", "--pid", "1", "--for", "1h", "--out", "/nonexistent-kscope/dir");
        Assert.Equal(ExitCodes.Error, code);
        Assert.Contains("[ERROR] diagnose: --out /nonexistent-kscope/dir: the directory /nonexistent-kscope does not exist", console.ErrorText, StringComparison.Ordinal);
    }

    private static (double Periods, double Throttled) CpuStat(string dir)
    {
        var values = File.ReadAllLines(Path.Combine(dir, "cpu.stat")).Select(l => l.Split(' ')).ToDictionary(f => f[0], f => double.Parse(f[1], CultureInfo.InvariantCulture));
        return (values["nr_periods"], values["nr_throttled"]);
    }

    private static ulong HostCpuSomeMicros()
    {
        string? some = File.Exists("/proc/pressure/cpu") ? File.ReadAllLines("/proc/pressure/cpu").FirstOrDefault(l => l.StartsWith("some ", StringComparison.Ordinal)) : null;
        return some is null ? 0 : ulong.Parse(some[(some.IndexOf("total=", StringComparison.Ordinal) + 6)..], CultureInfo.InvariantCulture);
    }
}
