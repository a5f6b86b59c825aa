using System.Diagnostics;
using Kscope.Diagnostics.Trace.Records;

namespace Kscope.Diagnostics.Trace;

/// <summary>
/// Runs one gadget: starts the command stopped (if any), loads and attaches the gadget with the
/// filter, lets the command go, streams records and prints aggregates every interval and at the end,
/// then detaches and summarises. Ends at --for, when the command exits, or on cancellation (Ctrl-C).
/// </summary>
public sealed class TraceSession(TraceOptions options, TraceWriter writer)
{
    private readonly Lock _output = new(); // the ring buffer pump and the --interval ticker both write
    private ulong _events;
    private readonly bool _syscalls = options.Gadget.Name == "syscalls" && options.Gadget.StreamColumns is not null;

    public async Task<TraceSummary> RunAsync(CancellationToken cancellationToken)
    {
        using StoppedCommand? command = options.Command.Count > 0 ? StoppedCommand.Start(options.Command) : null;
        TraceFilter filter = options.Filter;
        if (command is not null)
        {
            filter = filter with { Pids = new HashSet<int>(filter.Pids) { command.Pid }, FollowChildren = true };
        }
        var clock = Stopwatch.StartNew();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        string reason = "duration";
        ulong lost = 0;
        Task commandDone = command is null ? Task.Delay(Timeout.Infinite, stop.Token) : command.WaitForExitAsync(stop.Token);
        if (options.Gadget.Kind == GadgetKind.Poll)
        {
            CpuThrottleSampler sampler = filter.CgroupDirectory is string dir && options.Command.Count == 0
                ? CpuThrottleSampler.ForDirectory(dir)
                : filter.Pids.Count > 0 ? CpuThrottleSampler.ForProcess(filter.Pids.Min())
                : throw new TraceTargetException("trace cpu-throttle: needs a target: --pid, --cgroup, --container or -- COMMAND");
            StartClock(stop);
            command?.Resume();
            reason = await PollAsync(sampler, commandDone, stop.Token, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            IGadgetRuntime runtime = GadgetRuntime.Require(options.Gadget);
            var rodata = new Dictionary<string, object>(filter.RodataValues(), StringComparer.Ordinal);
            ulong slowNs = (ulong)(options.Slow.TotalMilliseconds * 1_000_000);
            rodata["slow_ns"] = slowNs;
            rodata["min_block_ns"] = 1000UL;
            using IGadgetInstance instance = runtime.Start(options.Gadget, GadgetObjects.Load(options.Gadget.Object!), filter, rodata);
            foreach (int pid in filter.Pids)
            {
                instance.AddPid(pid);
            }
            StartClock(stop); // --for counts tracing time, not the gadget's load and attach
            command?.Resume();
            Task pump = PumpAsync(instance, stop.Token);
            Task ticks = TickAsync(instance, stop.Token);
            Task snapshots = SnapshotMapsAsync(instance, filter, stop.Token);
            Task first = await Task.WhenAny(commandDone, pump).ConfigureAwait(false);
            reason = cancellationToken.IsCancellationRequested ? "interrupted" : first == commandDone && command is not null ? "command exited" : "duration";
            if (first == commandDone && command is not null)
            {
                await Task.Delay(50, CancellationToken.None).ConfigureAwait(false); // records of other processes still in flight; the command's own are drained below
            }
            await stop.CancelAsync().ConfigureAwait(false);
            await IgnoreCancel(pump).ConfigureAwait(false);
            await IgnoreCancel(ticks).ConfigureAwait(false);
            await IgnoreCancel(snapshots).ConfigureAwait(false);
            foreach (ReadOnlyMemory<byte> record in instance.Drain())
            {
                WriteEvent(record.Span);
            }
            PrintAggregates(instance, final: true);
            lost = instance.Lost;
        }
        return new TraceSummary(options.Gadget.Name, _events, lost, clock.Elapsed, reason, command is { HasExited: true } ? command.ExitCode : null);
    }

    private void StartClock(CancellationTokenSource stop)
    {
        if (options.Duration is TimeSpan d)
        {
            stop.CancelAfter(d);
        }
    }

    private async Task<string> PollAsync(CpuThrottleSampler sampler, Task commandDone, CancellationToken stop, CancellationToken user)
    {
        TimeSpan interval = options.Interval ?? TimeSpan.FromSeconds(1);
        while (true)
        {
            Task delay = Task.Delay(interval, stop);
            Task first = await Task.WhenAny(delay, commandDone).ConfigureAwait(false);
            _events++;
            writer.Write(sampler.Sample(Monotonic()));
            writer.Flush();
            if (first == commandDone && !commandDone.IsCanceled)
            {
                return "command exited";
            }
            if (delay.IsCanceled)
            {
                return user.IsCancellationRequested ? "interrupted" : "duration";
            }
        }
    }

    private async Task PumpAsync(IGadgetInstance instance, CancellationToken stop)
    {
        IAsyncEnumerator<ReadOnlyMemory<byte>> records = instance.Events(stop).GetAsyncEnumerator(stop);
        try
        {
            while (true)
            {
                ValueTask<bool> next = records.MoveNextAsync();
                if (!next.IsCompleted)
                {
                    lock (_output)
                    {
                        writer.Flush(); // the ring buffer is drained: show what came
                    }
                }
                if (!await next.ConfigureAwait(false))
                {
                    break;
                }
                WriteEvent(records.Current.Span);
            }
        }
        finally
        {
            await records.DisposeAsync().ConfigureAwait(false);
            lock (_output)
            {
                writer.Flush();
            }
        }
    }

    private void WriteEvent(ReadOnlySpan<byte> record)
    {
        if (_syscalls)
        {
            lock (_output)
            {
                if (writer.TryWriteSyscallEvent(record, options.Gadget.StreamColumns!))
                {
                    _events++;
                    return;
                }
            }
        }
        ITraceRecord decoded = Decode(options.Gadget.Name, record);
        lock (_output)
        {
            _events++;
            writer.Write(decoded, "event", options.Gadget.StreamColumns);
        }
    }

    private async Task TickAsync(IGadgetInstance instance, CancellationToken stop)
    {
        if (options.Interval is not TimeSpan interval || options.Gadget.Kind != GadgetKind.Aggregate)
        {
            return;
        }
        while (!stop.IsCancellationRequested)
        {
            await Task.Delay(interval, stop).ConfigureAwait(false);
            PrintAggregates(instance, final: false);
        }
    }

    /// <summary>Decodes a ring buffer record of a streaming gadget.</summary>
    public static ITraceRecord Decode(string gadget, ReadOnlySpan<byte> record) => gadget switch
    {
        "exec" => ExecRecord.Parse(record),
        "open" => OpenRecord.Parse(record),
        "syscalls" => SlowSyscallRecord.Parse(record),
        "runqlat" => RunqRecord.Parse(record),
        "tcp" => TcpRecord.Parse(record),
        "oom" => OomRecord.Parse(record),
        "signal" => SignalRecord.Parse(record),
        _ => throw new ArgumentException($"gadget '{gadget}' streams no records", nameof(gadget)),
    };

    private void PrintAggregates(IGadgetInstance instance, bool final)
    {
        lock (_output)
        {
            PrintAggregatesLocked(instance, final);
            writer.Flush();
        }
    }

    private void PrintAggregatesLocked(IGadgetInstance instance, bool final)
    {
        string type = final ? "total" : "interval";
        switch (options.Gadget.Name)
        {
            case "syscalls":
            {
                var rows = instance.MapEntries("stats").Select(e => SyscallStats.Parse(BitConverter.ToUInt32(e.Key), e.Value))
                    .OrderByDescending(s => s.TotalNs).ToList();
                writer.NewTable();
                writer.Text($"\n-- syscalls ({type}) --\n");
                rows.ForEach(r => writer.Write(r, type));
                var all = new Log2Histogram(new ulong[40]);
                rows.ForEach(r => all.Add(r.Histogram));
                writer.Text("\nlatency of all syscalls:\n" + all.Render(Durations.Format));
                break;
            }
            case "runqlat":
            {
                var rows = instance.MapEntries("hists").Select(e => RunqHistogram.Parse(BitConverter.ToUInt32(e.Key), e.Value))
                    .OrderByDescending(h => h.TotalNs).ToList();
                writer.NewTable();
                writer.Text($"\n-- run-queue latency ({type}) --\n");
                foreach (RunqHistogram h in rows)
                {
                    writer.Write(h, type);
                    writer.Text(h.Histogram.Render(Durations.Format));
                }
                break;
            }
            case "offcpu":
            {
                ulong threshold = (ulong)(options.Slow.TotalMilliseconds * 1_000_000);
                var rows = instance.MapEntries("totals").Select(e => OffCpuEntry.Parse(e.Key, e.Value))
                    .Where(e => e.TotalNs >= threshold).OrderByDescending(e => e.TotalNs).ToList();
                writer.NewTable();
                writer.Text($"\n-- off-CPU time >= {Durations.Format(threshold)} ({type}) --\n");
                foreach (OffCpuEntry e in rows)
                {
                    OffCpuEntry full = e with { KernelStack = Frames(instance, e.KernelStackId, kernel: true), UserStack = Frames(instance, e.UserStackId, kernel: false, e.Pid) };
                    writer.Write(full, type);
                    writer.Text(string.Concat(full.KernelStack.Concat(full.UserStack).Select(f => $"    {f}\n")));
                }
                break;
            }
            case "futex":
            {
                var rows = instance.MapEntries("totals").Select(e => FutexEntry.Parse(e.Key, e.Value)).OrderByDescending(e => e.TotalNs).ToList();
                writer.NewTable();
                writer.Text($"\n-- contended futex waits ({type}) --\n");
                foreach (FutexEntry e in rows)
                {
                    FutexEntry full = e with { UserStack = Frames(instance, e.UserStackId, kernel: false, e.Pid) };
                    writer.Write(full, type);
                    writer.Text(string.Concat(full.UserStack.Select(f => $"    {f}\n")));
                }
                break;
            }
        }
    }

    private Symbols.KernelSymbols? _kernelSymbols;
    private readonly Symbols.BinaryCache _binaries = new();
    private readonly Dictionary<uint, MapsSnapshot> _userMaps = [];

    /// <summary>The mappings of a process when last seen alive, and its executable then.</summary>
    private sealed record MapsSnapshot(Symbols.UserFrames Frames, string Exe, long TakenMs);

    private IReadOnlyList<string> Frames(IGadgetInstance instance, int id, bool kernel, uint pid = 0)
    {
        if (id < 0)
        {
            return [];
        }
        IReadOnlyList<ulong> ips = instance.Stack("stacks", id);
        if (kernel)
        {
            _kernelSymbols ??= LoadKernelSymbols();
            return ips.Select(ip => "[k] " + _kernelSymbols.Resolve(ip)).ToArray();
        }
        Symbols.UserFrames? frames = Snapshot(pid, maxAgeMs: 1000)?.Frames;
        return ips.SelectMany((ip, i) => frames?.ResolveAll(ip, leaf: i == 0) ?? [$"0x{ip:x}"]).ToArray();
    }

    /// <summary>
    /// The process's mappings: re-read when older than <paramref name="maxAgeMs"/> or after an exec, kept
    /// when the process is gone (stacks are printed at the end, often after it exited).
    /// </summary>
    private MapsSnapshot? Snapshot(uint pid, long maxAgeMs)
    {
        _userMaps.TryGetValue(pid, out MapsSnapshot? last);
        long now = Environment.TickCount64;
        string? exe = ExeOf(pid);
        if (exe is null || (last is not null && last.Exe == exe && now - last.TakenMs < maxAgeMs))
        {
            return last;
        }
        if (Symbols.UserFrames.Of((int)pid, _binaries) is Symbols.UserFrames frames)
        {
            _userMaps[pid] = last = new MapsSnapshot(frames, exe, now);
        }
        return last;
    }

    private static string? ExeOf(uint pid)
    {
        try
        {
            return new FileInfo($"/proc/{pid}/exe").LinkTarget;
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

    /// <summary>
    /// Stack gadgets: snapshots the mappings of the traced processes (the in-kernel pid set, else the
    /// processes with entries) while they live, so that their user stacks can be symbolized at the end.
    /// </summary>
    private async Task SnapshotMapsAsync(IGadgetInstance instance, TraceFilter filter, CancellationToken stop)
    {
        if (options.Gadget.Name is not ("offcpu" or "futex"))
        {
            return;
        }
        while (!stop.IsCancellationRequested)
        {
            IEnumerable<uint> pids = filter.FiltersPids
                ? instance.MapEntries("pids").Select(e => BitConverter.ToUInt32(e.Key))
                : instance.MapEntries("totals").Select(e => options.Gadget.Name == "offcpu" ? OffCpuEntry.Parse(e.Key, e.Value).Pid : FutexEntry.Parse(e.Key, e.Value).Pid);
            lock (_output)
            {
                foreach (uint pid in pids.Distinct())
                {
                    Snapshot(pid, maxAgeMs: 1000);
                }
            }
            await Task.Delay(filter.FiltersPids ? 100 : 500, stop).ConfigureAwait(false);
        }
    }

    private static Symbols.KernelSymbols LoadKernelSymbols() => Symbols.KernelSymbols.LoadOrEmpty();

    private static async Task IgnoreCancel(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static ulong Monotonic() => (ulong)(Stopwatch.GetTimestamp() * (1e9 / Stopwatch.Frequency));
}
