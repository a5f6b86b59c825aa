using Stopwatch = System.Diagnostics.Stopwatch;
using Kscope.Diagnostics.Profiling;
using Kscope.Diagnostics.Trace;
using Kscope.Diagnostics.Trace.Gadgets.Oom;
using Kscope.Diagnostics.Trace.Gadgets.Open;
using Kscope.Diagnostics.Trace.Gadgets.Runqlat;
using Kscope.Diagnostics.Trace.Gadgets.Signal;
using Kscope.Diagnostics.Trace.Gadgets.Tcp;
using Kscope.Formats.Pprof;

namespace Kscope.Diagnostics.Diagnose;

/// <summary>How long and how a capture runs.</summary>
public sealed record CaptureOptions
{
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The counters' polling interval.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>CPU sampler frequency (Hz per CPU); 0 turns the sampler off.</summary>
    public int Frequency { get; init; } = 99;

    /// <summary>Run the runqlat gadget (run-queue latency per process, eBPF).</summary>
    public bool RunQueueLatency { get; init; } = true;

    /// <summary>
    /// Run the streaming gadgets, each filtered in the kernel to what went wrong (<see cref="EventGadgets"/>): open
    /// (failed opens: EMFILE, ENOENT, EACCES … as "open_error"), oom (kills, "oom_kill"), tcp (failed connects,
    /// resets, retransmits), signal (deliveries that kill, "fatal_signal", and who sent them, "signal_sent").
    /// </summary>
    public bool EventGadgets { get; init; } = true;

    public TimelineLimits Limits { get; init; } = new();
}

/// <summary>One source of a capture and how it went: "started", "unavailable" (with why), "failed".</summary>
public sealed record SourceStatus(string Name, string Status, string? Detail);

/// <summary>What a capture brings back: the timeline, the on-CPU profile, run-queue histograms, and each source's status.</summary>
public sealed class CaptureResult
{
    public required DiagnoseTarget Target { get; init; }

    public required Timeline Timeline { get; init; }

    public required CounterPoller Counters { get; init; }

    public Profile? CpuProfile { get; init; }

    public CpuSampler? Sampler { get; init; }

    /// <summary>runqlat's per-process histograms over the window (empty when the gadget did not run).</summary>
    public IReadOnlyList<RunqHistogram> RunQueue { get; init; } = [];

    public required IReadOnlyList<SourceStatus> Sources { get; init; }

    /// <summary>"duration", "interrupted", "target exited", "command exited".</summary>
    public required string EndedBy { get; init; }

    /// <summary>Records of the streaming gadgets (open, oom, tcp, signal) the kernel could not deliver: a ring buffer was full.</summary>
    public ulong GadgetRecordsLost { get; init; }

    /// <summary>Failed opens of the target the open gadget reported over the window (null: the gadget did not run).</summary>
    public ulong? OpensSeen { get; init; }

    /// <summary>OOM-kill records the oom gadget delivered (null: the gadget did not run).</summary>
    public ulong? OomKillsSeen { get; init; }

    /// <summary>How long after the stop was asked for every source had stopped.</summary>
    public TimeSpan StopLatency { get; init; }
}

/// <summary>
/// Starts every source on one target together, with one stop: the counter poller (fixed interval), the CPU sampler
/// (perf cpu-clock, kernel and user stacks) and the runqlat gadget. The window opens once every source is running
/// (a command started stopped is resumed then) and closes at <see cref="CaptureOptions.Duration"/>, on the token
/// (Ctrl-C) or when the target is gone; sources stop within about a quarter second (the sampler's tick) and what
/// they collected is returned, never thrown away. A source that cannot start here (no BPF, no perf events) is
/// reported as unavailable and the others run.
/// </summary>
public static class Capture
{
    public static CaptureResult Run(DiagnoseTarget target, CaptureOptions options, CancellationToken cancellationToken,
        Func<bool>? targetGone = null, Action? started = null, int? pendingExecPid = null, Action<TimeSpan>? progress = null)
    {
        var timeline = new Timeline(options.Limits);
        var poller = new CounterPoller(target, timeline);
        var sources = new List<SourceStatus> { new("counters", "started", $"every {options.Interval.TotalMilliseconds:0} ms") };
        using var stop = new CancellationTokenSource();
        IGadgetInstance? runq = options.RunQueueLatency
            ? StartGadget<RunqlatGadget>(target, pendingExecPid, sources, "eBPF sched_wakeup/sched_switch, histogram per process", ("slow_ns", ulong.MaxValue)) // histograms only: no per-wait records
            : null;
        var events = new EventGadgets(timeline);
        try
        {
            if (options.EventGadgets)
            {
                // each filtered in the kernel: only failures leave it
                events.Add("open", StartGadget<OpenGadget>(target, pendingExecPid, sources, "eBPF open/openat/openat2 exits; failed ones kept as events",
                    ("failed_only", (byte)1)), EventGadgets.OpenError);
                events.Add("oom", StartGadget<OomGadget>(target, pendingExecPid, sources, "eBPF oom:mark_victim; kills of the target's processes or by them"),
                    EventGadgets.OomKill);
                events.Add("tcp", StartGadget<TcpGadget>(target, pendingExecPid, sources, "eBPF inet_sock_set_state, tcp_retransmit_skb; failed connects, resets, retransmits",
                    ("errors_only", (byte)1)), EventGadgets.TcpError);
                events.Add("signal", StartGadget<SignalGadget>(target, pendingExecPid, sources, "eBPF signal_generate, signal_deliver; deliveries that kill and who sent them",
                    ("fatal_only", (byte)1)), EventGadgets.Signal);
                events.Start();
            }
            CpuSampler? sampler = null;
            Task<Profile>? sampling = null;
            using var samplerStarted = new ManualResetEventSlim();
            if (options.Frequency > 0)
            {
                sampler = new CpuSampler();
                try
                {
                    ProfileTarget pt = target.CgroupDirectory is string dir ? ProfileTarget.ForCgroup(dir) : new ProfileTarget(Pid: target.Pid);
                    sampling = sampler.RunAsync(pt, options.Frequency, options.Duration + TimeSpan.FromMinutes(1), null,
                        stopWhen: () => stop.IsCancellationRequested, CancellationToken.None, started: samplerStarted.Set);
                }
                catch (TraceTargetException e)
                {
                    sources.Add(new("cpu_sampler", "unavailable", e.Message));
                    sampler = null;
                }
                if (sampling is not null)
                {
                    // The window opens when the events are enabled (or the sampler failed: the others run anyway).
                    while (!samplerStarted.Wait(50) && !sampling.IsCompleted && !cancellationToken.IsCancellationRequested)
                    {
                    }
                    if (sampling.IsFaulted && sampling.Exception!.GetBaseException() is not (Kscope.Native.KernelException or TraceTargetException or IOException))
                    {
                        sampling.GetAwaiter().GetResult(); // a bug: crash with its stack trace
                    }
                    if (sampling.IsFaulted)
                    {
                        sources.Add(new("cpu_sampler", "unavailable", sampling.Exception!.GetBaseException().Message));
                        (sampler, sampling) = (null, null);
                    }
                    else
                    {
                        sources.Add(new("cpu_sampler", "started", $"{options.Frequency} Hz cpu-clock, kernel and user stacks"));
                    }
                }
            }
            else
            {
                sources.Add(new("cpu_sampler", "off", "-F 0"));
            }

            timeline.MarkStart(MonotonicClock.Snapshot());
            poller.Sample();
            started?.Invoke();
            var clock = Stopwatch.StartNew();
            string endedBy = "duration";
            long ticks = 0;
            while (true)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    endedBy = "interrupted";
                    break;
                }
                if (clock.Elapsed >= options.Duration)
                {
                    break;
                }
                if (targetGone?.Invoke() == true)
                {
                    endedBy = pendingExecPid is null ? "target exited" : "command exited";
                    break;
                }
                if (sampling is { IsCompleted: true } && target.CgroupDirectory is null)
                {
                    endedBy = "target exited"; // every sampled task exited
                    break;
                }
                ticks++;
                TimeSpan next = options.Interval * ticks;
                TimeSpan wait = (next < options.Duration ? next : options.Duration) - clock.Elapsed;
                if (wait > TimeSpan.Zero)
                {
                    cancellationToken.WaitHandle.WaitOne(wait);
                }
                if (!cancellationToken.IsCancellationRequested)
                {
                    poller.Sample();
                }
                progress?.Invoke(clock.Elapsed);
            }
            poller.Sample();
            timeline.MarkEnd(MonotonicClock.Snapshot());
            var stopping = Stopwatch.StartNew();
            stop.Cancel();
            runq?.Detach();
            events.Stop();
            Profile? profile = null;
            if (sampling is not null)
            {
                try
                {
                    profile = sampling.GetAwaiter().GetResult();
                }
                catch (Exception e) when (e is Kscope.Native.KernelException or TraceTargetException or IOException)
                {
                    sources.Add(new("cpu_sampler", "failed", e.Message));
                }
            }
            IReadOnlyList<RunqHistogram> hists = [];
            if (runq is not null)
            {
                hists = runq.MapEntries("hists").Select(e => RunqHistogram.Parse(BitConverter.ToUInt32(e.Key), e.Value)).ToList();
            }
            return new CaptureResult
            {
                Target = target,
                Timeline = timeline,
                Counters = poller,
                CpuProfile = profile,
                Sampler = profile is null ? null : sampler,
                RunQueue = hists,
                Sources = sources,
                EndedBy = endedBy,
                StopLatency = stopping.Elapsed,
                GadgetRecordsLost = events.Lost,
                OpensSeen = events.Records("open"),
                OomKillsSeen = events.Records("oom"),
            };
        }
        finally
        {
            stop.Cancel();
            events.Dispose(); // the reader is done before its gadgets are disposed, on an early exit too
            runq?.Dispose();
        }
    }

    /// <summary>Loads gadget <typeparamref name="T"/> on the target (its pids and children, or its cgroup); unavailable (with why) when it cannot load here.</summary>
    private static IGadgetInstance? StartGadget<T>(DiagnoseTarget target, int? pendingExecPid, List<SourceStatus> sources, string detail,
        params (string Name, object Value)[] extra) where T : Gadget
    {
        T gadget = GadgetCatalog.Get<T>();
        try
        {
            TraceFilter filter = target.CgroupDirectory is string dir
                ? TargetResolver.ForCgroup(new TraceFilter(), dir)
                : new TraceFilter { Pids = new HashSet<int>(target.Pids), FollowChildren = true };
            var rodata = new Dictionary<string, object>(filter.RodataValues(), StringComparer.Ordinal);
            foreach ((string name, object value) in extra)
            {
                rodata[name] = value;
            }
            IGadgetInstance instance = new BpfGadgetRuntime().Start(gadget, GadgetObjects.Load(gadget.Object!), filter, rodata);
            try
            {
                foreach (int pid in filter.Pids)
                {
                    instance.AddPid(pid, pendingExec: pid == pendingExecPid);
                }
            }
            catch
            {
                instance.Dispose();
                throw;
            }
            sources.Add(new(gadget.Name, "started", detail));
            return instance;
        }
        catch (Exception e) when (e is Kscope.Native.KernelException or TraceTargetException or Kscope.Formats.MalformedDataException or NotSupportedException)
        {
            sources.Add(new(gadget.Name, "unavailable", e.Message));
            return null;
        }
    }
}
