using System.Diagnostics;
using System.Globalization;
using Kscope.Cli.Infrastructure;
using Kscope.Diagnostics.Profiling;
using Kscope.Formats.Pprof;

namespace Kscope.Cli.Tests.Profiling;

/// <summary>
/// kscope profile against <c>perf record</c> on the same activity at the same time: the running service
/// (ServiceUnderLoad, attached with <c>-p</c>), and a command (kscope profiles <c>perf record -- CMD</c>, so both
/// sample the very same process). The oracle is checked too: perf's sample count against the kernel's own CPU
/// accounting (schedstat), and perf's top functions against Go's own profiler (net/http/pprof) over the same window.
/// </summary>
[Trait("Category", "Kernel")]
public sealed class ProfilePerfDifferentialTests
{
    private const int Hz = 99;

    /// <summary>Top-5 sets equal, every top-5 count within 20 % (or sampling noise), totals within 20 %.</summary>
    private static void AssertAgree(FlatProfile kscope, FlatProfile perf, string context)
    {
        string detail = $"{context}\nkscope: {kscope.Describe()}\nperf:   {perf.Describe()}";
        TestContext.Current.SendDiagnosticMessage(detail);
        Assert.True(FlatProfile.Agree(kscope.Total, perf.Total, out string totals) && Math.Abs(kscope.Total - perf.Total) <= 0.2 * Math.Max(kscope.Total, perf.Total),
            $"total samples: {totals}\n{detail}");
        Assert.True(FlatProfile.SameTop(kscope, perf, 5, out string top), $"{top}\n{detail}");
        TestContext.Current.SendDiagnosticMessage(top);
        foreach (string f in perf.Top(5))
        {
            Assert.True(FlatProfile.Agree(kscope[f], perf[f], out string why), $"{f}: {why}\n{detail}");
        }
    }

    [Fact]
    [Trait(KscopeCli.Mode, KscopeCli.InProcess)] // CpuSampler itself: its window and per-thread counts
    public async Task ProfilePid_RunningServiceVsPerfRecordP_SameTop5AndCounts()
    {
        Requires.Root();
        string perf = Requires.Tool("perf", "linux-perf");
        using var svc = ServiceUnderLoad.Start(new() { Gomaxprocs = 2, Clients = 4 });
        var missed = new List<string>();
        for (int attempt = 1; attempt <= 3; attempt++)
        {
            if (await PidAttempt(perf, svc) is not string perfMissed)
            {
                return;
            }
            // perf record -p lists /proc/PID/task once: a thread the service creates while perf opens its events, by a
            // thread perf has not reached yet, is never sampled (kscope lists again until none is left). The oracle is
            // wrong then, so the comparison is not made; it is made on the next window.
            missed.Add(perfMissed);
            TestContext.Current.SendDiagnosticMessage($"attempt {attempt}: {perfMissed}");
        }
        Assert.Fail($"perf record -p missed a thread in every window: {string.Join("; ", missed)}");
    }

    /// <summary>One window of the comparison; returns why perf (the oracle) was wrong, or null after the assertions.</summary>
    private static async Task<string?> PidAttempt(string perf, ServiceUnderLoad svc)
    {
        using var dir = new TempDirectory("kscope-perfdiff-");
        string perfData = dir["perf.data"];
        TimeSpan window = TimeSpan.FromSeconds(10);

        // perf first, started with its events disabled and enabled through its control fifo (the ack says they are
        // on); it stamps samples with CLOCK_MONOTONIC (-k mono), so its samples are compared over kscope's exact
        // window, which perf's covers: perf is disabled only after kscope has stopped.
        string ctl = dir["ctl"], ack = dir["ack"];
        Tools.Check("mkfifo", ctl, ack);
        using Process perfRecord = Process.Start(new ProcessStartInfo(perf, ["record", "-D", "-1", "--control", $"fifo:{ctl},{ack}", "-k", "mono",
            "-F", Hz.ToString(CultureInfo.InvariantCulture), "-g", "-p", svc.Pid.ToString(CultureInfo.InvariantCulture), "-o", perfData])
            { RedirectStandardError = true, RedirectStandardOutput = true })!;
        Task<string> perfErr = perfRecord.StandardError.ReadToEndAsync();
        using var control = new PerfControl(ctl, ack);
        control.Send("enable");
        Task<byte[]> goProfile = Task.Run(() => svc.GetBytes($"/debug/pprof/profile?seconds={(int)window.TotalSeconds}"));
        var sampler = new CpuSampler();
        Dictionary<int, long> before = [], after = [];
        ulong from = 0, to = 0;
        var clock = new Stopwatch();
        Profile profile = await sampler.RunAsync(new ProfileTarget(Pid: svc.Pid), Hz, TimeSpan.FromMinutes(2), null,
            stopWhen: () =>
            {
                if (clock.Elapsed < window)
                {
                    return false;
                }
                after = ThreadCpu.Read(svc.Pid);
                to = Monotonic();
                return true;
            }, TestContext.Current.CancellationToken,
            started: () =>
            {
                from = Monotonic();
                before = ThreadCpu.Read(svc.Pid);
                clock.Start();
            });
        control.Send("disable");
        Tools.Check("kill", "-INT", perfRecord.Id.ToString(CultureInfo.InvariantCulture));
        await perfRecord.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(120), TestContext.Current.CancellationToken);
        Assert.True(perfRecord.ExitCode is 0 or 130, $"perf record exited {perfRecord.ExitCode}: {await perfErr}"); // 130: it ends on SIGINT

        FlatProfile kscope = FlatProfile.FromKscope(profile);
        FlatProfile oracle = FlatProfile.FromPerf(perfData, from: from, to: to);
        double expected = ThreadCpu.Delta(before, after).Values.Sum() * Hz / 1e9;
        string goFile = dir.Write("go.pb.gz", "");
        await File.WriteAllBytesAsync(goFile, await goProfile, TestContext.Current.CancellationToken);
        FlatProfile go = FlatProfile.FromGoPprof(goFile, 10_000_000);
        string load = File.ReadAllText("/proc/loadavg").Trim();
        Dictionary<int, long> cpu = ThreadCpu.Delta(before, after);
        string threads = "per thread (schedstat samples' worth / kscope / perf): " + string.Join(", ", cpu.Keys.Union(oracle.Threads.Keys).Union(sampler.SamplesByThread.Keys).Order()
            .Select(t => $"{t}: {cpu.GetValueOrDefault(t) * Hz / 1e9:F0}/{sampler.SamplesByThread.GetValueOrDefault(t)}/{oracle.Threads.GetValueOrDefault(t)}"));
        string context = $"{threads}\n--pid {svc.Pid} over {(to - from) / 1e9:F1} s at {Hz} Hz; schedstat says {expected:F0} samples' worth of CPU; load {load}\ngo pprof: {go.Describe()}";

        // The oracle first: perf sampled every thread that ran and took as many samples as the kernel's accounting
        // says, and it agrees with Go's own profiler.
        if (cpu.Where(c => c.Value * Hz / 1e9 >= 20 && oracle.Threads.GetValueOrDefault(c.Key) == 0).Select(c => c.Key).ToList() is [_, ..] unseen)
        {
            return $"perf never sampled thread(s) {string.Join(", ", unseen)} (kscope: {string.Join(", ", unseen.Select(t => sampler.SamplesByThread.GetValueOrDefault(t)))} samples; {threads})";
        }
        Assert.True(oracle.Total >= expected * 0.8 && oracle.Total <= expected * 1.2 + 5,
            $"perf took {oracle.Total} samples, the kernel's accounting says {expected:F0}\n{context}\nperf: {oracle.Describe()}\nkscope: {kscope.Describe()}");
        // Go's profiler cannot see kernel functions (it charges their time to the Go function that entered the kernel).
        HashSet<string> kernel = KernelFunctions();
        Assert.True(FlatProfile.SameTop(go, oracle, 5, out string goTop, kernel.Contains), $"perf and Go's own profiler disagree: {goTop}\n{context}\nperf: {oracle.Describe()}");
        AssertAgree(kscope, oracle, context);
        Assert.InRange(kscope.Total, expected * 0.8, expected * 1.2 + 5);
        return null;
    }

    [Fact]
    public void ProfileCommand_KscopeAroundPerfRecordOfTheSameCommand_SameTop5AndCounts()
    {
        Requires.Root();
        string perf = Requires.Tool("perf", "linux-perf");
        string service = GoBuild.Build(ServiceUnderLoad.Source);
        using var dir = new TempDirectory("kscope-perfdiff-cmd-");
        string perfData = dir["perf.data"], output = dir["k.pb.gz"];
        // kscope runs perf, perf runs the workload: both sample the same process over its whole life.
        var console = new StringConsole();
        int code = KscopeCli.Invoke(console, "profile", "-F", Hz.ToString(CultureInfo.InvariantCulture), "-o", output, "--",
            "env", "GOMAXPROCS=2", perf, "record", "-F", Hz.ToString(CultureInfo.InvariantCulture), "-g", "-o", perfData, "--", service, "-work", "8s");
        Assert.True(code is ExitCodes.Ok or ExitCodes.Warnings, console.OutText + console.ErrorText);
        Profile profile = ProfileReader.Read(File.ReadAllBytes(output));
        // The workload's pid: the samples whose comm is the service's.
        HashSet<long> workload = profile.Samples.Where(s => s.Labels.Any(l => l.Key == "comm" && l.Str == "service"))
            .Select(s => s.Labels.First(l => l.Key == "pid").Num).ToHashSet();
        Assert.Single(workload);
        FlatProfile kscope = FlatProfile.FromKscope(profile, workload);
        FlatProfile oracle = FlatProfile.FromPerf(perfData, comm: "service");
        // Oracle check: two goroutines on GOMAXPROCS=2 for 8 s can use at most 16 CPU-seconds; perf saw at least some of it.
        Assert.InRange(oracle.Total, 50, 16 * Hz * 1.2);
        AssertAgree(kscope, oracle, $"-- service -work 8s (GOMAXPROCS=2) under perf record, at {Hz} Hz; load {File.ReadAllText("/proc/loadavg").Trim()}");
    }

    private static HashSet<string> KernelFunctions() =>
        File.ReadLines("/proc/kallsyms").Select(l => l.Split(' ', '\t')).Where(f => f.Length >= 3).Select(f => f[2]).ToHashSet(StringComparer.Ordinal);

    private static ulong Monotonic() => (ulong)(Stopwatch.GetTimestamp() * (1e9 / Stopwatch.Frequency));

    /// <summary>perf record's --control fifos: a command, then its "ack".</summary>
    private sealed class PerfControl(string ctl, string ack) : IDisposable
    {
        // Read-write opens do not wait for the other end (perf opens them once it has started).
        private readonly FileStream _ctl = new(ctl, FileMode.Open, FileAccess.ReadWrite);
        private readonly StreamReader _ack = new(new FileStream(ack, FileMode.Open, FileAccess.ReadWrite));

        public void Send(string command)
        {
            byte[] bytes = System.Text.Encoding.ASCII.GetBytes(command + "\n");
            _ctl.Write(bytes);
            _ctl.Flush();
            Task<string?> line = _ack.ReadLineAsync();
            // perf reads the fifo once it has synthesized the target's threads and mappings: seconds on a busy one-vCPU guest
            Assert.True(line.Wait(Poll.Generous), $"perf did not acknowledge '{command}' in {Poll.Generous.TotalSeconds} s");
            Assert.Equal("ack", line.Result?.Trim('\0')); // perf writes "ack\n" with its NUL
        }

        public void Dispose()
        {
            _ctl.Dispose();
            _ack.Dispose();
        }
    }
}
