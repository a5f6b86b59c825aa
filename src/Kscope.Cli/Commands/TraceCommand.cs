using System.CommandLine;
using Kscope.Cli.Infrastructure;
using Kscope.Diagnostics.Trace;
using Kscope.Diagnostics.Trace.Gadgets.Open;
using Kscope.Diagnostics.Trace.Gadgets.Tcp;

namespace Kscope.Cli.Commands;

/// <summary><c>kscope trace GADGET [filters] [-- COMMAND…]</c>: built-in eBPF gadgets, filtered in the kernel.</summary>
public static class TraceCommand
{
    public static Command Create(IConsole console)
    {
        var gadget = new Argument<string?>("gadget") { Description = "The gadget to run (see --list).", Arity = ArgumentArity.ZeroOrOne };
        var commandArgs = new CommandArgument("After '--': a command to start stopped, trace with its children, and end with.");
        var list = new Option<bool>("--list", "-l") { Description = "List the gadgets, what each needs from the kernel and whether this kernel has it." };
        var pid = new Option<int[]>("--pid", "-p") { Description = "Trace these processes (and the children they fork). Repeatable.", AllowMultipleArgumentsPerToken = false };
        var tid = new Option<int?>("--tid") { Description = "Trace this thread only." };
        var comm = new Option<string?>("--comm") { Description = "Trace tasks with this exact comm (15 bytes at most)." };
        var uid = new Option<uint?>("--uid") { Description = "Trace tasks of this user id." };
        var cgroup = new Option<string?>("--cgroup") { Description = "Trace this cgroup: a /sys/fs/cgroup directory or the path /proc/PID/cgroup prints (v2: by cgroup id; v1: its processes)." };
        var container = new Option<string?>("--container") { Description = "Trace the container with this id: all 64 hex digits or a unique prefix of at least 12 (docker ps, crictl ps), as runtimes name cgroups (docker-ID.scope, /docker/ID, cri-containerd-ID.scope…)." };
        var duration = new Option<string?>("--for", "-d") { Description = "Stop after tracing this long, counted from attach (10s, 500ms, 2m). Default: until Ctrl-C or the command ends." };
        var interval = new Option<string?>("--interval", "-i") { Description = "Print histograms and totals every interval (cpu-throttle: sample period, default 1s)." };
        var slow = new Option<string?>("--slow") { Description = "syscalls/runqlat: stream calls or waits at least this slow (0: every one); offcpu: print totals above it (default 10ms)." };
        var failed = new Option<bool>("--failed", "-x") { Description = "Only what failed, filtered in the kernel. open: failed calls (as opensnoop -x); tcp: failed connects, resets and aborts, retransmits." };
        var top = new Option<int?>("--top") { Description = $"offcpu/futex: print the N largest totals (default {TraceOptions.DefaultTop}; 0: all); only printed stacks are symbolized." };
        var fields = new Option<string?>("--fields", "-f") { Description = "Columns to print, comma-separated: the gadget's field names (docs/trace.md), e.g. pid,comm,path." };
        var json = CommonOptions.Json();
        var command = new Command("trace",
            "See what a process does in the kernel, now: built-in eBPF gadgets filtered in the kernel by pid, thread, comm, uid, cgroup or container.\n" +
            "Streams aligned columns (or JSON lines with --json; schemas in docs/trace.md); ends with a summary that counts lost events.\n" +
            "Ends at --for, when the command exits, or on Ctrl-C/SIGTERM: it detaches, prints the histograms and the summary, then exits.\n" +
            "Exit codes: 0 ok, 4 permission denied, 5 not supported here, 64 usage, 130 interrupted by Ctrl-C (143: SIGTERM); docs/exit-codes.md.\n\n" +
            "Examples:\n" +
            "  kscope trace --list                          # gadgets and whether this kernel has what they need\n" +
            "  kscope trace exec                            # every exec on the host\n" +
            "  kscope trace open --pid 4242 --for 10s       # files process 4242 opens, with errors and latency\n" +
            "  kscope trace syscalls -- curl -s example.com # per-syscall latency of a command, from its first instruction\n" +
            "  kscope trace cpu-throttle --cgroup /sys/fs/cgroup/cpu/myservice --interval 500ms");
        command.Arguments.Add(gadget);
        command.Arguments.Add(commandArgs);
        foreach (Option o in (Option[])[list, pid, tid, comm, uid, cgroup, container, duration, interval, slow, failed, top, fields, json])
        {
            command.Options.Add(o);
        }
        command.SetAction((parse, ct) => CommandRunner.RunAsync(console, async token =>
        {
            if (parse.GetValue(list))
            {
                return List(console, parse.GetValue(json));
            }
            string name = parse.GetValue(gadget) ?? throw new UsageException("trace: name a gadget (kscope trace --list shows them)");
            Gadget g = GadgetCatalog.Find(name) ?? throw new UsageException($"trace: no gadget '{name}' (have: {string.Join(", ", GadgetCatalog.All.Select(x => x.Name))})");
            TraceFilter filter;
            try
            {
                filter = TargetResolver.Resolve(new TargetResolver.Options(parse.GetValue(pid) ?? [], parse.GetValue(tid), parse.GetValue(comm),
                    parse.GetValue(uid), parse.GetValue(cgroup), parse.GetValue(container)));
            }
            catch (TraceTargetException e)
            {
                throw new UsageException(e.Message);
            }
            IReadOnlyList<string> columns = parse.GetValue(fields) is string f ? Columns(g, f) : g.Columns;
            var options = new TraceOptions(g, filter)
            {
                Duration = Duration(parse.GetValue(duration), "--for"),
                Interval = Duration(parse.GetValue(interval), "--interval"),
                Slow = Duration(parse.GetValue(slow), "--slow", allowZero: true) ?? TimeSpan.FromMilliseconds(10),
                Json = parse.GetValue(json),
                FailedOnly = parse.GetValue(failed) && (g is OpenGadget or TcpGadget ? true : throw new UsageException($"trace {g.Name}: --failed is for the open and tcp gadgets")),
                Top = parse.GetValue(top) is int n ? (n >= 0 ? n : throw new UsageException($"trace: --top {n}: give a number of rows, 0 for all")) : TraceOptions.DefaultTop,
                Fields = columns,
                Command = parse.GetValue(commandArgs) ?? [],
            };
            return await Run(console, options, columns, token).ConfigureAwait(false);
        }, ct));
        return command;
    }

    /// <summary>--fields: names the gadget's lines carry, else a usage error listing them.</summary>
    private static IReadOnlyList<string> Columns(Gadget g, string text)
    {
        string[] names = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        IReadOnlyList<string> valid = g.Schema.Values.SelectMany(keys => keys).Distinct().ToArray();
        if (names.Length == 0)
        {
            throw new UsageException($"trace {g.Name}: --fields needs field names (have: {string.Join(",", valid)})");
        }
        foreach (string name in names)
        {
            if (!valid.Contains(name, StringComparer.Ordinal))
            {
                throw new UsageException($"trace {g.Name}: --fields: no field '{name}' (have: {string.Join(",", valid)})");
            }
        }
        return names;
    }

    private static TimeSpan? Duration(string? text, string option, bool allowZero = false) =>
        text is null ? null : Durations.TryParse(text, out TimeSpan value) && (value > TimeSpan.Zero || (allowZero && value == TimeSpan.Zero)) ? value
        : throw new UsageException($"trace: {option} '{text}' is not a duration (examples: 10s, 500ms, 2m)");

    private static async Task<int> Run(IConsole console, TraceOptions options, IReadOnlyList<string> columns, CancellationToken token)
    {
        // Console.Out writes through a 256-byte buffer, flushed on every call: give the trace its own
        // buffered writer on stdout (TraceWriter flushes it whenever the ring buffer is drained).
        using TextWriter? stdout = console is SystemConsole
            ? new StreamWriter(Console.OpenStandardOutput(), new System.Text.UTF8Encoding(false), 1 << 16, leaveOpen: true)
            : null;
        var writer = new TraceWriter(stdout ?? console.Out, options.Gadget.Name, options.Json, columns)
        {
            Width = console.IsTerminal ? console.Width : int.MaxValue, // long last cells wrap under themselves
        };
        if (!options.Json)
        {
            string target = options.Command.Count == 0 ? options.Filter.Describe()
                : $"{(options.Filter.IsEmpty ? "" : options.Filter.Describe() + ", ")}command '{string.Join(' ', options.Command)}' and its children";
            console.Error.WriteLine($"tracing {options.Gadget.Name}: {target}; Ctrl-C to stop");
        }
        TraceSummary summary;
        try
        {
            summary = await new TraceSession(options, writer).RunAsync(token).ConfigureAwait(false);
        }
        catch (TraceTargetException e)
        {
            throw new UsageException(e.Message);
        }
        if (options.Json)
        {
            console.Out.WriteLine(TraceWriter.JsonLine("summary", summary.Gadget,
            [
                new("events", summary.Events), new("lost", summary.Lost), new("elapsed_ms", (long)summary.Elapsed.TotalMilliseconds),
                new("end", summary.EndReason), new("command_exit_code", summary.CommandExitCode is int c ? (long)c : null),
                new("rows_not_shown", summary.RowsNotShown), new("maps_dropped", summary.MapsDropped),
            ]));
        }
        else
        {
            console.Error.WriteLine($"{summary.Gadget}: {summary.Events} events, {summary.Lost} lost, {summary.Elapsed.TotalSeconds:0.0}s, ended by {summary.EndReason}" +
                (summary.CommandExitCode is int code ? $"; command exited with {code}" : "") +
                (summary.MapsDropped > 0 ? $"; mappings of {summary.MapsDropped} processes not kept (more than {options.MapsCapacity} seen): their user frames are hex" : ""));
        }
        return summary.EndReason == "interrupted" ? ExitCodes.Interrupted : ExitCodes.Ok;
    }

    private static int List(IConsole console, bool json)
    {
        if (json)
        {
            foreach (Gadget g in GadgetCatalog.All)
            {
                var checks = GadgetCatalog.Check(g);
                console.Out.WriteLine(TraceWriter.JsonLine("gadget", g.Name,
                [
                    new("summary", g.Summary), new("kind", g.Kind.ToString().ToLowerInvariant()),
                    new("needs", checks.Select(c => $"{c.Need}={(c.Present is bool p ? (p ? "yes" : "no") : "unknown")}").ToArray()),
                    new("available", checks.All(c => c.Present != false)),
                ]));
            }
            return ExitCodes.Ok;
        }
        foreach (Gadget g in GadgetCatalog.All)
        {
            var checks = GadgetCatalog.Check(g);
            bool kernelOk = checks.All(c => c.Present != false);
            console.Out.WriteLine($"{g.Name,-13} {(kernelOk ? "ready" : "missing"),-9} {g.Summary}");
            foreach ((string need, bool? present, string detail) in checks)
            {
                console.Out.WriteLine($"{"",-13} {(present is bool p ? (p ? "ok" : "MISSING") : "?"),-9} {need} ({detail})");
            }
        }
        return ExitCodes.Ok;
    }
}
