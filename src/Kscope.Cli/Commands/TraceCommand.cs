using System.CommandLine;
using Kscope.Cli.Infrastructure;
using Kscope.Diagnostics.Trace;

namespace Kscope.Cli.Commands;

/// <summary><c>kscope trace GADGET [filters] [-- COMMAND…]</c>: built-in eBPF gadgets, filtered in the kernel.</summary>
public static class TraceCommand
{
    public static Command Create(IConsole console)
    {
        var gadget = new Argument<string?>("gadget") { Description = "The gadget to run (see --list).", Arity = ArgumentArity.ZeroOrOne };
        var commandArgs = new Argument<string[]>("command") { Description = "After '--': a command to start stopped, trace with its children, and end with.", Arity = ArgumentArity.ZeroOrMore };
        var list = new Option<bool>("--list", "-l") { Description = "List the gadgets, what each needs from the kernel and whether this kernel has it." };
        var pid = new Option<int[]>("--pid", "-p") { Description = "Trace these processes (and the children they fork). Repeatable.", AllowMultipleArgumentsPerToken = false };
        var tid = new Option<int?>("--tid") { Description = "Trace this thread only." };
        var comm = new Option<string?>("--comm") { Description = "Trace tasks with this exact comm (15 bytes at most)." };
        var uid = new Option<uint?>("--uid") { Description = "Trace tasks of this user id." };
        var cgroup = new Option<string?>("--cgroup") { Description = "Trace this cgroup: a /sys/fs/cgroup directory or the path /proc/PID/cgroup prints (v2: by cgroup id; v1: its processes)." };
        var container = new Option<string?>("--container") { Description = "Trace the container with this id (or a unique prefix of 6+ characters) as found in /proc/*/cgroup." };
        var duration = new Option<string?>("--for", "-d") { Description = "Stop after tracing this long, counted from attach (10s, 500ms, 2m). Default: until Ctrl-C or the command ends." };
        var interval = new Option<string?>("--interval", "-i") { Description = "Print histograms and totals every interval (cpu-throttle: sample period, default 1s)." };
        var slow = new Option<string?>("--slow") { Description = "syscalls/runqlat: stream calls or waits at least this slow (0: every one); offcpu: print totals above it (default 10ms)." };
        var fields = new Option<string?>("--fields", "-f") { Description = "Columns to print, comma-separated (names as in the JSON schema)." };
        var json = CommonOptions.Json();
        var command = new Command("trace",
            "See what a process does in the kernel, now: built-in eBPF gadgets filtered in the kernel by pid, thread, comm, uid, cgroup or container.\n" +
            "Streams aligned columns (or JSON lines with --json; schemas in docs/trace.md); ends with a summary that counts lost events.\n" +
            "Exit codes: 0 ok, 4 permission denied, 5 not supported here, 64 usage, 130 interrupted.\n\n" +
            "Examples:\n" +
            "  kscope trace --list                          # gadgets and whether this kernel has what they need\n" +
            "  kscope trace exec                            # every exec on the host\n" +
            "  kscope trace open --pid 4242 --for 10s       # files process 4242 opens, with errors and latency\n" +
            "  kscope trace syscalls -- curl -s example.com # per-syscall latency of a command, from its first instruction\n" +
            "  kscope trace cpu-throttle --cgroup /sys/fs/cgroup/cpu/myservice --interval 500ms");
        command.Arguments.Add(gadget);
        command.Arguments.Add(commandArgs);
        foreach (Option o in (Option[])[list, pid, tid, comm, uid, cgroup, container, duration, interval, slow, fields, json])
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
            IReadOnlyList<string> columns = parse.GetValue(fields) is string f
                ? f.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                : g.Columns;
            var options = new TraceOptions(g, filter)
            {
                Duration = Duration(parse.GetValue(duration), "--for"),
                Interval = Duration(parse.GetValue(interval), "--interval"),
                Slow = Duration(parse.GetValue(slow), "--slow", allowZero: true) ?? TimeSpan.FromMilliseconds(10),
                Json = parse.GetValue(json),
                Fields = columns,
                Command = parse.GetValue(commandArgs) ?? [],
            };
            return await Run(console, options, columns, token).ConfigureAwait(false);
        }, ct));
        return command;
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
        var writer = new TraceWriter(stdout ?? console.Out, options.Gadget.Name, options.Json, columns);
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
        catch (GadgetRuntimeUnavailableException e)
        {
            console.Error.WriteLine($"[ERROR] {e.Message}");
            return ExitCodes.Unsupported;
        }
        if (options.Json)
        {
            console.Out.WriteLine(TraceWriter.JsonLine("summary", summary.Gadget,
            [
                new("events", summary.Events), new("lost", summary.Lost), new("elapsed_ms", (long)summary.Elapsed.TotalMilliseconds),
                new("end", summary.EndReason), new("command_exit_code", summary.CommandExitCode is int c ? (long)c : null),
            ]));
        }
        else
        {
            console.Error.WriteLine($"{summary.Gadget}: {summary.Events} events, {summary.Lost} lost, {summary.Elapsed.TotalSeconds:0.0}s, ended by {summary.EndReason}" +
                (summary.CommandExitCode is int code ? $"; command exited with {code}" : ""));
        }
        return summary.EndReason == "interrupted" ? ExitCodes.Ok : ExitCodes.Ok;
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
                    new("available", checks.All(c => c.Present != false) && (g.Kind == GadgetKind.Poll || GadgetRuntime.Current is not null)),
                ]));
            }
            return ExitCodes.Ok;
        }
        foreach (Gadget g in GadgetCatalog.All)
        {
            var checks = GadgetCatalog.Check(g);
            bool kernelOk = checks.All(c => c.Present != false);
            bool runnable = kernelOk && (g.Kind == GadgetKind.Poll || GadgetRuntime.Current is not null);
            console.Out.WriteLine($"{g.Name,-13} {(runnable ? "ready" : kernelOk ? "no loader" : "missing"),-9} {g.Summary}");
            foreach ((string need, bool? present, string detail) in checks)
            {
                console.Out.WriteLine($"{"",-13} {(present is bool p ? (p ? "ok" : "MISSING") : "?"),-9} {need} ({detail})");
            }
        }
        if (GadgetRuntime.Current is null)
        {
            console.Out.WriteLine("\n'no loader': the kernel has what the gadget needs, but this kscope build has no eBPF object loader yet (issue 4).");
        }
        return ExitCodes.Ok;
    }
}
