using System.Diagnostics;
using System.Globalization;
using Kscope.Cli.Infrastructure;
using Kscope.Diagnostics.Pprof;
using Kscope.Diagnostics.Profiling;
using Kscope.Formats.Pprof;

namespace Kscope.Cli.Tests.Profiling;

/// <summary>
/// `kscope profile --pid` on a service that was already running, busy on several threads (the TestKit
/// ServiceUnderLoad): every thread that ran is sampled as often as the kernel's own CPU accounting says, threads
/// and children born while sampling are sampled, exits end it, and a stop is prompt under a flood of records.
/// </summary>
[Trait("Category", "Kernel")]
public sealed class ProfileRunningServiceTests
{
    private const int Hz = 199;

    private static (int Code, string Out) Run(params string[] args)
    {
        var console = new StringConsole();
        int code = KscopeCli.Invoke(console, args);
        return (code, console.OutText + console.ErrorText);
    }

    /// <summary>Samples <paramref name="pid"/> for <paramref name="window"/>, reading the kernel's per-thread CPU time right after the events are open and right before they stop.</summary>
    private static (CpuSampler Sampler, Profile Profile, Dictionary<int, long> CpuNanos) Sample(int pid, TimeSpan window, Action<Stopwatch>? during = null)
    {
        var sampler = new CpuSampler();
        Dictionary<int, long> before = [], after = [];
        var clock = new Stopwatch();
        Profile profile = sampler.RunAsync(new ProfileTarget(Pid: pid), Hz, TimeSpan.FromMinutes(5), null,
            stopWhen: () =>
            {
                during?.Invoke(clock);
                if (clock.Elapsed < window)
                {
                    return false;
                }
                after = ThreadCpu.Read(pid);
                return true;
            },
            CancellationToken.None,
            started: () =>
            {
                before = ThreadCpu.Read(pid);
                clock.Start();
            }).GetAwaiter().GetResult();
        return (sampler, profile, ThreadCpu.Delta(before, after));
    }

    [Fact]
    [Trait(KscopeCli.Mode, KscopeCli.InProcess)] // CpuSampler itself
    public void ProfilePid_BusyServiceStartedBefore_EveryThreadThatRanIsSampledAsItsCpuTimeSays()
    {
        Requires.Root();
        using var svc = ServiceUnderLoad.Start(new() { Gomaxprocs = 2, Clients = 4 });
        IReadOnlyList<int> existing = svc.Tids();
        (CpuSampler sampler, Profile profile, Dictionary<int, long> cpu) = Sample(svc.Pid, TimeSpan.FromSeconds(4));

        // The oracle: the kernel's CPU time of each thread over the window, at one sample per 1/Hz s of it.
        double expected = cpu.Values.Sum() * Hz / 1e9;
        string detail = $"{sampler.Samples} samples, {expected:F0} expected from schedstat; per thread (cpu ms / samples): " +
            string.Join(", ", cpu.OrderByDescending(c => c.Value).Select(c => $"{c.Key}: {c.Value / 1_000_000} / {sampler.SamplesByThread.GetValueOrDefault(c.Key)}"));
        Assert.True(expected >= 50, $"the service hardly ran ({detail})");
        Assert.True(sampler.Samples >= expected * 0.8 && sampler.Samples <= expected * 1.2 + 5, detail);
        // Every thread that existed before kscope attached and ran ≥ 50 ms (≈ 10 samples' worth) was sampled.
        List<int> busyExisting = cpu.Where(c => existing.Contains(c.Key) && c.Value >= 50_000_000).Select(c => c.Key).ToList();
        Assert.True(busyExisting.Count >= 2, $"fewer than 2 busy threads: {detail}");
        Assert.All(busyExisting, tid => Assert.True(sampler.SamplesByThread.GetValueOrDefault(tid) > 0, $"thread {tid} ran but was never sampled: {detail}"));
        Assert.Equal(0UL, sampler.Duplicates);
        Assert.True(sampler.ThreadsOpened >= existing.Count - 1, $"{sampler.ThreadsOpened} threads opened of {existing.Count}");

        List<TopEntry> top = TopReport.Compute(StackSet.From(profile));
        Assert.Contains(top.Take(6), e => e.Name == "crypto/sha256.block");
        Assert.Contains(top.Take(6), e => e.Name == "main.lcgLoop");
        Assert.All(profile.Samples, s => Assert.Equal((long)svc.Pid, s.Labels.Single(l => l.Key == "pid").Num));
    }

    [Fact]
    [Trait(KscopeCli.Mode, KscopeCli.InProcess)] // CpuSampler itself
    public void ProfilePid_ThreadsAndChildrenBornWhileSampled_AreSampledAsTheirCpuTimeSays()
    {
        Requires.Root();
        using var svc = ServiceUnderLoad.Start(new() { Clients = 1 });
        int shortTid = 0, longTid = 0, shortChild = 0, longChild = 0;
        Dictionary<int, long> threadCpu = [], longChildCpu = [];
        (CpuSampler sampler, Profile profile, _) = Sample(svc.Pid, TimeSpan.FromSeconds(4), during: clock =>
        {
            if (shortTid == 0 && clock.Elapsed > TimeSpan.FromMilliseconds(300))
            {
                shortTid = svc.SpawnThread(TimeSpan.FromMilliseconds(800));    // born now, ends while sampled
                shortChild = svc.SpawnChild(TimeSpan.FromMilliseconds(800));   // fork + exec, exits while sampled
                longTid = svc.SpawnThread(TimeSpan.FromSeconds(30));           // still running when sampling stops
                longChild = svc.SpawnChild(TimeSpan.FromSeconds(30));
            }
            if (clock.Elapsed >= TimeSpan.FromSeconds(4))
            {
                // Born during the window: all their CPU time so far was sampled.
                threadCpu = ThreadCpu.Read(svc.Pid);
                longChildCpu = ThreadCpu.Read(longChild);
            }
        });
        Assert.True(shortTid > 0 && longChild > 0);
        string detail = $"threads sampled: {string.Join(", ", sampler.SamplesByThread.Select(t => $"{t.Key}: {t.Value}"))}; " +
            $"threads {shortTid} (short), {longTid} (long: {threadCpu.GetValueOrDefault(longTid) / 1_000_000} ms CPU), children {shortChild} (short), {longChild} (long: {longChildCpu.Values.Sum() / 1_000_000} ms CPU)";
        Assert.True(sampler.SamplesByThread.GetValueOrDefault(shortTid) > 0, detail);
        Assert.True(sampler.SamplesByThread.GetValueOrDefault(shortChild) > 0, detail);
        Assert.False(Directory.Exists($"/proc/{svc.Pid}/task/{shortTid}"), "the short thread should have ended");
        // The long-lived ones against the kernel's accounting (the new thread; the child's every thread).
        double expectedThread = threadCpu.GetValueOrDefault(longTid) * Hz / 1e9;
        double expectedChild = longChildCpu.Values.Sum() * Hz / 1e9;
        Assert.True(expectedThread >= 20 && expectedChild >= 20, $"the machine starved them: {detail}");
        // The CPU time the samples stand for (their periods: in frequency mode the kernel adjusts the period, so on a
        // machine whose timer ticks late, a QEMU guest, there are fewer samples of a longer period) against schedstat.
        long threadSampled = sampler.SamplesByThread.GetValueOrDefault(longTid);
        double threadMs = sampler.CpuNanosByThread.GetValueOrDefault(longTid) / 1e6, threadCpuMs = threadCpu.GetValueOrDefault(longTid) / 1e6;
        Assert.True(threadMs >= threadCpuMs * 0.8 && threadMs <= threadCpuMs * 1.2 + 30, $"new thread: {threadSampled} samples worth {threadMs:F0} ms, {threadCpuMs:F0} ms of CPU ({expectedThread:F0} samples at {Hz} Hz); {detail}");
        long childSampled = sampler.SamplesByThread.Where(t => longChildCpu.ContainsKey(t.Key)).Sum(t => t.Value);
        double childMs = sampler.CpuNanosByThread.Where(t => longChildCpu.ContainsKey(t.Key)).Sum(t => t.Value) / 1e6, childCpuMs = longChildCpu.Values.Sum() / 1e6;
        Assert.True(childMs >= childCpuMs * 0.8 && childMs <= childCpuMs * 1.2 + 30, $"child: {childSampled} samples worth {childMs:F0} ms, {childCpuMs:F0} ms of CPU ({expectedChild:F0} samples at {Hz} Hz); {detail}");

        List<TopEntry> top = TopReport.Compute(StackSet.From(profile));
        Assert.Contains(top, e => e.Name == "main.lockedSpin");
        // The children's samples carry their pids and are symbolized in their own images (the exec'd binary).
        List<Sample> childSamples = profile.Samples.Where(s => s.Labels.Any(l => l.Key == "pid" && l.Num == longChild)).ToList();
        Assert.NotEmpty(childSamples);
        Assert.Contains(childSamples, s => s.Locations.SelectMany(l => l.Lines).Any(l => l.Function?.Name == "main.childBurn"));
    }

    [Fact]
    [Trait(KscopeCli.Mode, KscopeCli.InProcess)] // CpuSampler itself
    public async Task ProfilePid_ServiceKilledWhileSampled_StopsWithoutWaitingForTheDuration()
    {
        Requires.Root();
        using var svc = ServiceUnderLoad.Start(new() { Clients = 2 });
        var sampler = new CpuSampler();
        var clock = Stopwatch.StartNew();
        Task<Profile> run = sampler.RunAsync(new ProfileTarget(Pid: svc.Pid), Hz, TimeSpan.FromMinutes(2), null, null, CancellationToken.None,
            started: () => Task.Delay(1000).ContinueWith(_ => Process.GetProcessById(svc.Pid).Kill()));
        await run.WaitAsync(TimeSpan.FromSeconds(60)); // TimeoutException: sampling went on after every thread had exited
        Assert.True(sampler.Samples > 0);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60));
    }

    [Fact]
    [Trait(KscopeCli.Mode, KscopeCli.InProcess)] // CpuSampler itself
    public async Task ProfilePid_FloodOfRecordsFromManyBusyThreads_CancelStopsSamplingAtOnce()
    {
        Requires.Root();
        using var svc = ServiceUnderLoad.Start(new() { Gomaxprocs = 4, Clients = 8, WorkUnits = 1 });
        for (int i = 0; i < 6; i++)
        {
            svc.SpawnThread(TimeSpan.FromSeconds(30)); // six more threads that only spin
        }
        using var cts = new CancellationTokenSource();
        var sampler = new CpuSampler();
        var sinceCancel = new Stopwatch();
        // -F 20000 (the kernel may throttle it to perf_event_max_sample_rate): the rings fill as fast as the kernel can.
        // In a TCG guest 2000: a cpu-clock sample with its call chain takes some 50 µs of emulated CPU there, the period
        // of 20 kHz, and the guest's CPUs ended up doing nothing but take samples (a CI leg: the cancel took 586 s,
        // the next test's CPUs soft-locked). 2000 Hz on 14 busy threads still fills the rings faster than they drain.
        int hz = Guest.Emulated ? 2_000 : 20_000;
        Task<Profile> run = sampler.RunAsync(new ProfileTarget(Pid: svc.Pid), hz, TimeSpan.FromMinutes(2), null,
            stopWhen: () => false, cts.Token, started: () => Task.Delay(2000).ContinueWith(_ =>
            {
                sinceCancel.Start();
                cts.Cancel();
            }));
        await run.WaitAsync(TimeSpan.FromSeconds(60)); // TimeoutException: cancelled sampling did not end
        Assert.True(sampler.Samples > 1000, $"{sampler.Samples} samples: no flood");
        // Structural, not a timing: once cancelled, the sampler read no more than the rings held (the drain under
        // way and the last one), however fast the kernel kept writing.
        Assert.True(sampler.BytesReadAfterStop <= 2 * sampler.RingBytes, $"{sampler.BytesReadAfterStop} bytes read after the stop (rings hold {sampler.RingBytes})");
        Assert.NotNull(sampler.StopLatency);
        TestContext.Current.SendDiagnosticMessage($"flood: {sampler.Samples} samples, {sampler.Throttled} throttle records, {sampler.Lost} lost; sampling stopped {sampler.StopLatency!.Value.TotalMilliseconds:F0} ms after the cancel, profile built {sinceCancel.ElapsedMilliseconds} ms after; load {File.ReadAllText("/proc/loadavg").Trim()}");
    }

    [Fact]
    public void ProfileCli_PidOfRunningService_SummaryNamesThreadsAndHotFunctions()
    {
        Requires.Root();
        using var svc = ServiceUnderLoad.Start(new() { Clients = 4 });
        string output = Path.Combine(Path.GetTempPath(), $"kscope-svc-{Environment.ProcessId}-{Guid.NewGuid():N}.pb.gz");
        try
        {
            var (code, text) = Run("profile", "--pid", svc.Pid.ToString(CultureInfo.InvariantCulture), "--for", "3s", "-o", output);
            Assert.True(code is ExitCodes.Ok or ExitCodes.Warnings, text);
            Assert.Matches(@"wrote .*: \d+ samples of pid \d+ \(\d+ threads\) at 99 Hz", text);
            Assert.Contains("crypto/sha256.block", text, StringComparison.Ordinal);
            Profile p = ProfileReader.Read(File.ReadAllBytes(output));
            Assert.True(p.Samples.Sum(s => s.Values[0]) > 20, text);
        }
        finally
        {
            File.Delete(output);
        }
    }

    [Fact]
    [Trait(KscopeCli.Mode, KscopeCli.InProcess)] // CpuSampler itself
    public async Task ProfilePid_OffCpuOnRunningService_BlockedTimeOfSeveralThreads()
    {
        Requires.Root();
        using var svc = ServiceUnderLoad.Start(new() { Clients = 2 });
        using OffCpuCollector blocked = OffCpuCollector.Start(svc.Pid);
        var sampler = new CpuSampler { OffCpu = blocked.Read };
        Profile profile = await sampler.RunAsync(new ProfileTarget(Pid: svc.Pid), Hz, TimeSpan.FromSeconds(3), null, null, CancellationToken.None);
        var tids = blocked.Entries().Where(e => e.Pid == svc.Pid && e.TotalNs > 0).Select(e => e.Tid).ToHashSet();
        // Threads that existed before the gadget attached block and wake (netpoll, futex, the load's requests).
        Assert.True(tids.Count >= 2, $"off-CPU time of {tids.Count} thread(s): {string.Join(", ", tids)}");
        Assert.True(tids.Count(t => t != svc.Pid) >= 1, "only the main thread's off-CPU time was seen");
        Assert.Contains(profile.Samples, s => s.Values[2] > 0);
        Assert.Contains(profile.Samples, s => s.Values[1] > 0);
    }
}
