using System.Diagnostics;
using Kscope.Native;

namespace Kscope.Diagnostics.Trace;

/// <summary>
/// Runs one gadget: starts the command stopped (if any), loads and attaches the gadget with the
/// filter, lets the command go, streams records and prints aggregates every interval and at the end,
/// then detaches and summarises. Ends at --for, when the command exits, when every --pid target has
/// exited, or on cancellation (Ctrl-C): within a second of it at any event rate.
/// </summary>
public sealed class TraceSession(TraceOptions options, TraceWriter writer, IGadgetRuntime? runtime = null)
{
    /// <summary>How long records still in flight at the stop are printed; those after are counted as lost.</summary>
    private static readonly TimeSpan s_drainBudget = TimeSpan.FromMilliseconds(500);

    private readonly Lock _output = new(); // the ring buffer pump and the --interval ticker both write
    private readonly Gadget _gadget = options.Gadget;
    private readonly IGadgetRuntime _runtime = runtime ?? new BpfGadgetRuntime();
    private readonly TraceWriter _writer = writer;
    private readonly TraceOptions _options = options;
    private ulong _events;
    private ulong _unprinted;
    private ulong _rowsNotShown;

    public async Task<TraceSummary> RunAsync(CancellationToken cancellationToken)
    {
        using StoppedCommand? command = _options.Command.Count > 0 ? StoppedCommand.Start(_options.Command) : null;
        TraceFilter filter = _options.Filter;
        if (command is not null)
        {
            filter = filter with { Pids = new HashSet<int>(filter.Pids) { command.Pid }, FollowChildren = true };
        }
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        string reason = "duration";
        ulong lost = 0;
        Stopwatch clock;
        TimeSpan? traced = null;
        Task commandDone = command is null ? Task.Delay(Timeout.Infinite, stop.Token) : command.WaitForExitAsync(stop.Token);
        Task targetsDone = command is null && filter.EndWith.Count > 0 ? WaitForExitAsync(filter.EndWith, stop.Token) : Task.Delay(Timeout.Infinite, stop.Token);
        if (_gadget.Kind == GadgetKind.Poll)
        {
            Gadgets.CpuThrottle.CpuThrottleSampler sampler = filter.CgroupDirectory is string dir && _options.Command.Count == 0
                ? Gadgets.CpuThrottle.CpuThrottleSampler.ForDirectory(dir)
                : filter.Pids.Count > 0 ? Gadgets.CpuThrottle.CpuThrottleSampler.ForProcess(filter.Pids.Min())
                : throw new TraceTargetException($"trace {_gadget.Name}: needs a target: --pid, --cgroup, --container or -- COMMAND");
            clock = StartClock(stop);
            command?.Resume();
            reason = await PollAsync(sampler, Task.WhenAny(commandDone, targetsDone), command is null ? "target exited" : "command exited", stop.Token, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            var rodata = new Dictionary<string, object>(filter.RodataValues(), StringComparer.Ordinal)
            {
                ["slow_ns"] = (ulong)(_options.Slow.TotalMilliseconds * 1_000_000),
                ["min_block_ns"] = 1000UL,
                ["failed_only"] = (byte)(_options.FailedOnly ? 1 : 0), // open
                ["errors_only"] = (byte)(_options.FailedOnly ? 1 : 0), // tcp
            };
            using IGadgetInstance instance = _runtime.Start(_gadget, GadgetObjects.Load(_gadget.Object!), filter, rodata);
            foreach (int pid in filter.Pids)
            {
                instance.AddPid(pid);
            }
            if (command is not null)
            {
                // the wrapper stays stopped until Resume; what it does before its exec (the SIGCONT, its PATH search) is not the command's
                instance.AddPid(command.Pid, pendingExec: true);
            }
            clock = StartClock(stop); // --for counts tracing time, not the gadget's load and attach
            command?.Resume();
            if (_gadget.KernelStacks)
            {
                Resolver.PrefetchKernel();
            }
            Task pump = PumpAsync(instance, stop.Token);
            Task ticks = TickAsync(instance, stop.Token);
            Task snapshots = SnapshotMapsAsync(instance, filter, stop.Token);
            Task first = await Task.WhenAny(commandDone, targetsDone, pump).ConfigureAwait(false);
            reason = cancellationToken.IsCancellationRequested ? "interrupted"
                : first == commandDone && command is not null ? "command exited"
                : first == targetsDone && !targetsDone.IsCanceled ? "target exited"
                : "duration";
            if (first == commandDone && command is not null && !TracedTreeExited(instance, _options.Filter))
            {
                await Task.Delay(50, CancellationToken.None).ConfigureAwait(false); // records of other processes still in flight; the command's own are drained below
            }
            await stop.CancelAsync().ConfigureAwait(false);
            instance.Detach(); // from here on the ring buffer and the maps are final, however busy the targets are
            traced = clock.Elapsed; // what was traced; printing what remains and the totals comes after
            await IgnoreCancel(pump).ConfigureAwait(false);
            await IgnoreCancel(ticks).ConfigureAwait(false);
            await IgnoreCancel(snapshots).ConfigureAwait(false);
            var drain = Stopwatch.StartNew();
            IReadOnlyList<ReadOnlyMemory<byte>> rest = instance.Drain();
            for (int i = 0; i < rest.Count; i++)
            {
                if ((i & 255) == 0 && drain.Elapsed > s_drainBudget)
                {
                    _unprinted += (ulong)(rest.Count - i);
                    break;
                }
                WriteEvent(rest[i].Span);
            }
            PrintAggregates(instance, final: true);
            lost = instance.Lost + _unprinted;
        }
        return new TraceSummary(_gadget.Name, _events, lost, traced ?? clock.Elapsed, reason, command is { HasExited: true } ? command.ExitCode : null)
        {
            MapsDropped = _maps.Dropped,
            RowsNotShown = _rowsNotShown,
        };
    }

    /// <summary>
    /// Only the command and its children were traced (no other target) and none of them is alive: every record they
    /// made is already in the ring buffer, so the drain needs no grace period for records still in flight.
    /// </summary>
    private static bool TracedTreeExited(IGadgetInstance instance, TraceFilter userFilter)
    {
        if (!userFilter.IsEmpty)
        {
            return false;
        }
        try
        {
            return instance.MapEntries("pids").All(e => !Directory.Exists($"/proc/{BitConverter.ToUInt32(e.Key)}"));
        }
        catch (KeyNotFoundException)
        {
            return false; // a gadget without the pid set
        }
    }

    private Stopwatch StartClock(CancellationTokenSource stop)
    {
        if (_options.Duration is TimeSpan d)
        {
            stop.CancelAfter(d);
        }
        return Stopwatch.StartNew();
    }

    /// <summary>Completes when every one of <paramref name="pids"/> has exited (polled: /proc/PID/stat's start time guards against reuse).</summary>
    private static async Task WaitForExitAsync(IReadOnlySet<int> pids, CancellationToken stop)
    {
        Dictionary<int, ulong?> started = pids.ToDictionary(p => p, StartTime);
        while (started.Any(p => p.Value is ulong t && StartTime(p.Key) == t))
        {
            await Task.Delay(100, stop).ConfigureAwait(false);
        }
    }

    private static ulong? StartTime(int pid)
    {
        string? stat = Kscope.Kernel.Host.Procfs.TryReadText($"/proc/{pid}/stat");
        if (stat is null)
        {
            return null;
        }
        try
        {
            Kscope.Formats.Procfs.ProcStat s = Kscope.Formats.Procfs.ProcStat.Parse(stat, $"/proc/{pid}/stat");
            return s.State is 'Z' or 'X' ? null : s.StartTime;
        }
        catch (Kscope.Formats.MalformedDataException)
        {
            return null;
        }
    }

    private async Task<string> PollAsync(Gadgets.CpuThrottle.CpuThrottleSampler sampler, Task<Task> done, string doneReason, CancellationToken stop, CancellationToken user)
    {
        TimeSpan interval = _options.Interval ?? TimeSpan.FromSeconds(1);
        while (true)
        {
            Task delay = Task.Delay(interval, stop);
            Task first = await Task.WhenAny(delay, done).ConfigureAwait(false);
            _events++;
            _writer.Write(sampler.Sample(Monotonic()));
            _writer.Flush();
            if (first == done && done.Result is { IsCanceled: false })
            {
                return doneReason;
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
                        _writer.Flush(); // the ring buffer is drained: show what came
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
                _writer.Flush();
            }
        }
    }

    private void WriteEvent(ReadOnlySpan<byte> record)
    {
        if (_gadget.RequestsMaps)
        {
            uint pid = MapsRequest.PidOf(record); // not an event: a process blocked in a new address space
            lock (_output)
            {
                _maps.Take(pid);
            }
            return;
        }
        IReadOnlyList<string>? columns = _gadget.StreamColumns;
        lock (_output)
        {
            if (_gadget.TryWriteFast(_writer, record, columns ?? _options.Fields ?? _gadget.Columns))
            {
                _events++;
                return;
            }
        }
        ITraceRecord decoded = _gadget.Decode(record);
        lock (_output)
        {
            _events++;
            _writer.Write(decoded, "event", columns);
        }
    }

    private async Task TickAsync(IGadgetInstance instance, CancellationToken stop)
    {
        if (_options.Interval is not TimeSpan interval || _gadget.Kind != GadgetKind.Aggregate)
        {
            return;
        }
        while (!stop.IsCancellationRequested)
        {
            await Task.Delay(interval, stop).ConfigureAwait(false);
            PrintAggregates(instance, final: false);
        }
    }

    private void PrintAggregates(IGadgetInstance instance, bool final)
    {
        lock (_output)
        {
            var report = new Report(this, instance);
            _gadget.WriteAggregates(report, final ? "total" : "interval");
            _writer.Flush();
            if (final)
            {
                _rowsNotShown = report.NotShown;
            }
        }
    }

    /// <summary>What a gadget prints its aggregates with; stacks symbolized with the session's caches.</summary>
    private sealed class Report(TraceSession session, IGadgetInstance instance) : GadgetReport
    {
        public override TraceWriter Writer => session._writer;

        public override IGadgetInstance Instance => instance;

        public override TraceOptions Options => session._options;

        public override IReadOnlyList<string> KernelStack(int id) => session.KernelFrames(instance, id);

        public override IReadOnlyList<string> UserStack(int id, uint pid) => session.UserFrames(instance, id, pid);
    }

    /// <summary>Mappings of the traced processes as last seen alive (bounded; guarded by _output).</summary>
    private readonly ProcessMapsStore _maps = new(new Symbols.AddressResolver(), options.MapsCapacity);

    /// <summary>The one resolver (Symbols/AddressResolver): kernel and user frames, return-address rule, binaries shared.</summary>
    private Symbols.AddressResolver Resolver => _maps.Resolver;

    /// <summary>
    /// The frames of the probe itself (the tracepoint's caller in the tracing code, the BPF program) are
    /// where the stack was taken, not where the task blocked: they are dropped from the top of kernel stacks.
    /// </summary>
    private static readonly string[] s_probeFramePrefixes =
        ["__traceiter_", "__bpf_trace_", "bpf_trace_run", "perf_trace_", "trace_event_raw_event_", "bpf_prog_", "__bpf_prog_", "bpf_get_stack"];

    /// <summary>
    /// A stack the program asked for and bpf_get_stackid did not record (its negative id is the errno): EEXIST when
    /// its hash bucket in the stack map already held another stack, EFAULT when the unwinder got nothing. Said in
    /// the stack, as offcputime's "[Missed Kernel Stack]" does, never an empty list that reads as "no frames".
    /// </summary>
    public static string MissedStack(int id) => $"[stack not recorded: {Errors.Name(-(long)id)}]";

    private IReadOnlyList<string> KernelFrames(IGadgetInstance instance, int id)
    {
        if (id < 0)
        {
            return ["[k] " + MissedStack(id)]; // a task that blocks is always in the kernel: there was a stack
        }
        var frames = new List<string>();
        IReadOnlyList<ulong> ips = instance.Stack("stacks", id);
        for (int i = 0; i < ips.Count; i++)
        {
            ulong ip = ips[i];
            if (!Symbols.AddressResolver.IsKernelAddress(ip))
            {
                break; // not a kernel text address: past the end of the stack
            }
            // every frame but the first is a return address: looked up inside the call (the resolver's rule)
            string? name = Resolver.Kernel.Lookup(Symbols.AddressResolver.LookupAddress(ip, returnAddress: i > 0));
            if (frames.Count == 0 && name is not null && s_probeFramePrefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal)))
            {
                continue;
            }
            frames.Add("[k] " + Resolver.Kernel.Resolve(ip, returnAddress: i > 0));
        }
        return frames;
    }

    private IReadOnlyList<string> UserFrames(IGadgetInstance instance, int id, uint pid)
    {
        if (id < 0)
        {
            // EFAULT: no user stack to take (a kernel thread, or a task past its exit); anything else was lost
            return id == -(int)Errno.EFAULT ? [] : [MissedStack(id)];
        }
        IReadOnlyList<ulong> ips = instance.Stack("stacks", id);
        Symbols.UserFrames? frames = _maps.Get(pid, maxAgeMs: 1000);
        var result = new List<string>();
        int mapped = 0; // frames up to the last one inside a mapping: what follows is the unwinder reading garbage
        for (int i = 0; i < ips.Count; i++)
        {
            ulong ip = ips[i];
            if (ip < 0x1000 || ip >= 0x0000_8000_0000_0000UL)
            {
                break;
            }
            IReadOnlyList<string> resolved = frames?.ResolveAll(ip, leaf: i == 0) ?? [$"0x{ip:x}"];
            result.AddRange(resolved);
            if (frames is null || !resolved[0].StartsWith("0x", StringComparison.Ordinal))
            {
                mapped = result.Count;
            }
        }
        return result.GetRange(0, mapped);
    }

    /// <summary>
    /// Stack gadgets: snapshots the mappings of the traced processes (the in-kernel pid set, else the
    /// processes with rows) while they live, so that their user stacks can be symbolized at the end.
    /// </summary>
    private async Task SnapshotMapsAsync(IGadgetInstance instance, TraceFilter filter, CancellationToken stop)
    {
        if (!_gadget.NeedsStacks)
        {
            return;
        }
        while (!stop.IsCancellationRequested)
        {
            IEnumerable<uint> pids = filter.FiltersPids
                ? instance.MapEntries("pids").Select(e => BitConverter.ToUInt32(e.Key))
                : _gadget.PidsWithRows(instance);
            lock (_output)
            {
                foreach (uint pid in pids.Distinct())
                {
                    _maps.Get(pid, maxAgeMs: 1000);
                }
            }
            await Task.Delay(filter.FiltersPids ? 100 : 500, stop).ConfigureAwait(false);
        }
    }

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
