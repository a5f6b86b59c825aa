using System.CommandLine;
using System.Globalization;
using Kscope.Cli.Infrastructure;
using Kscope.Diagnostics.Pprof;
using Kscope.Diagnostics.Profiling;
using Kscope.Diagnostics.Trace;
using Kscope.Formats.Pprof;

namespace Kscope.Cli.Commands;

/// <summary><c>kscope profile</c>: sample a process, cgroup or the system with perf events into a symbolized pprof profile.</summary>
public static class ProfileCommand
{
    public static Command Create(IConsole console)
    {
        var command = new Command("profile",
            "Sample where CPU goes (perf_event_open cpu-clock, kernel and user stacks) into a pprof profile that go tool pprof, Pyroscope and Parca open.\n" +
            "Go (stripped too), native and kernel frames are symbolized; .NET JIT frames when the process runs with DOTNET_PerfMapEnabled=1.\n" +
            "Examples:\n" +
            "  kscope profile --pid 1234 --for 10s -o cpu.pb.gz --flame cpu.svg\n" +
            "  kscope profile -F 999 -- ./server --port 8080\n" +
            "  kscope profile --off-cpu --pid 1234 --for 30s    # where it runs and where it waits\n" +
            "  kscope profile --cgroup /sys/fs/cgroup/unified/system.slice/app.service --for 30s\n" +
            "  kscope profile --cgroup /sys/fs/cgroup/cpu/myservice --for 30s   # a v1 cpu cgroup, as doctor shows it\n" +
            "  kscope profile --container 3f2a9c1d8e7b --for 30s\n" +
            "Ctrl-C or SIGTERM ends sampling early: the profile (and flame graph) of what was sampled is still written, then\n" +
            "kscope exits 130 (143 after SIGTERM). Exit codes: docs/exit-codes.md.");
        Option<int?> pid = CommonOptions.Pid("Sample this process, already running or not: every thread it has, and the threads and children it starts while sampled.");
        var cgroup = new Option<string?>("--cgroup") { Description = "Sample the processes of this cgroup: a v2 directory, or a v1 directory of any controller (e.g. /sys/fs/cgroup/cpu/X), mapped to the perf_event cgroup of its processes." };
        var container = new Option<string?>("--container") { Description = "Sample a container by its id: all 64 hex digits or a unique prefix of at least 12 (docker ps, crictl ps); its own perf_event cgroup, so processes it starts later are sampled too." };
        var all = new Option<bool>("--all", "-a") { Description = "Sample every process on every CPU." };
        var frequency = new Option<int>("-F", "--frequency") { Description = "Samples per second per CPU.", DefaultValueFactory = _ => 99 };
        var duration = new Option<string?>("--for") { Description = "How long: 10s, 500ms, 2m (default 10s; with a COMMAND: until it exits)." };
        var output = new Option<string>("--output", "-o") { Description = "Where to write the gzipped pprof profile.", DefaultValueFactory = _ => "profile.pb.gz" };
        var offCpu = new Option<bool>("--off-cpu") { Description = "Also record time blocked off CPU (the offcpu gadget, kernel and user stacks) as a second sample type, off_cpu; needs --pid or a COMMAND." };
        var flame = new Option<string?>("--flame") { Description = "Also write a flame graph (.svg or .html)." };
        var top = new Option<int>("-n") { Description = "Functions in the summary.", DefaultValueFactory = _ => 10 };
        var program = new CommandArgument("After '--': a command to start and profile (until it exits, or --for).");
        command.Options.Add(pid);
        command.Options.Add(cgroup);
        command.Options.Add(container);
        command.Options.Add(all);
        command.Options.Add(frequency);
        command.Options.Add(duration);
        command.Options.Add(output);
        command.Options.Add(flame);
        command.Options.Add(offCpu);
        command.Options.Add(top);
        command.Arguments.Add(program);
        command.SetAction((parse, ct) => CommandRunner.RunAsync(console, async token =>
        {
            string[] argv = parse.GetValue(program) ?? [];
            int targets = (parse.GetValue(pid) is null ? 0 : 1) + (parse.GetValue(cgroup) is null ? 0 : 1) + (parse.GetValue(container) is null ? 0 : 1) + (parse.GetValue(all) ? 1 : 0) + (argv.Length > 0 ? 1 : 0);
            if (targets != 1)
            {
                throw new UsageException("give exactly one of --pid N, --cgroup PATH, --container ID, --all or -- COMMAND…");
            }
            int hz = parse.GetValue(frequency);
            if (hz is < 1 or > 100_000)
            {
                throw new UsageException($"-F {hz}: give 1..100000 samples per second");
            }
            // Outputs are checked now, not after sampling for the whole window.
            string path = parse.GetValue(output)!;
            FileChecks.Output("profile", "-o", path);
            string? flamePath = parse.GetValue(flame);
            if (flamePath is not null)
            {
                FlameFormat(flamePath, "--flame");
                FileChecks.Output("profile", "--flame", flamePath);
            }
            string? forText = parse.GetValue(duration);
            TimeSpan length = forText is null ? (argv.Length > 0 ? TimeSpan.FromDays(365) : TimeSpan.FromSeconds(10)) : ParseDuration(forText);
            // A command starts stopped (a shell that SIGSTOPs itself before exec) and is resumed once the
            // events are enabled: its first instruction is sampled and kscope's own start-up is over.
            if (argv.Length > 0 && !IsRunnable(argv[0]))
            {
                throw new UsageException($"start {argv[0]}: {(argv[0].Contains('/') ? "no such executable file" : "not found on PATH")}");
            }
            using StoppedCommand? child = argv.Length > 0 ? StoppedCommand.Start(argv, verb: "profile") : null;
            ProfileTarget target;
            try
            {
                target = child is not null ? new ProfileTarget(Pid: child.Pid)
                    : parse.GetValue(container) is string id ? ProfileTarget.ForContainer(id)
                    : parse.GetValue(cgroup) is string dir ? ProfileTarget.ForCgroup(dir)
                    : new ProfileTarget(parse.GetValue(pid), All: parse.GetValue(all));
            }
            catch (TraceTargetException e)
            {
                throw new UsageException(e.Message);
            }
            var sampler = new CpuSampler();
            using OffCpuCollector? blocked = parse.GetValue(offCpu)
                ? OffCpuCollector.Start(target.Pid ?? throw new UsageException("--off-cpu needs --pid N or -- COMMAND (the offcpu gadget follows one process and its children)"), pendingExec: child is not null)
                : null;
            if (blocked is not null)
            {
                sampler.OffCpu = blocked.Read;
            }
            Action<TimeSpan, ulong>? progress = console.IsTerminal
                ? (t, n) => console.Error.Write($"\r{Ansi.Dim(console, $"sampling {target} at {hz} Hz: {t.TotalSeconds:0.0}s, {n} samples")}   ")
                : null;
            console.Error.WriteLine($"profiling {target} at {hz} Hz {(forText is null && argv.Length > 0 ? "until the command exits" : $"for {length.TotalSeconds:0.###}s")}; " +
                "Ctrl-C stops early and still writes the profile");
            Profile profile = await sampler.RunAsync(target, hz, length, progress, child is null ? null : () => child.HasExited, token, child is null ? null : child.Resume);
            if (console.IsTerminal)
            {
                console.Error.WriteLine();
            }
            if (child is not null && !child.HasExited)
            {
                child.Dispose(); // --for ended first: stop the command (Dispose kills it)
            }
            // Interrupted or not, what was sampled is written (the token may be cancelled: writes do not take it).
            ProfileWriter.WriteFile(profile, path);
            string threads = target.Pid is not null ? $" ({sampler.SamplesByThread.Count} threads)" : "";
            console.Out.WriteLine($"wrote {path}: {sampler.Samples} samples of {target}{threads} at {hz} Hz{(sampler.Lost > 0 ? $", {sampler.Lost} lost" : "")}" +
                (token.IsCancellationRequested ? " (interrupted: what was sampled until then)" : ""));
            if (flamePath is not null)
            {
                StackSet fs = StackSet.From(profile);
                string title = $"kscope profile {target} — cpu";
                await File.WriteAllTextAsync(flamePath, FlameFormat(flamePath, "--flame") == "html"
                    ? FlameGraph.Html(FlameNode.Build(fs), title, "nanoseconds")
                    : FlameGraph.Svg(FlameNode.Build(fs), title, "nanoseconds"), CancellationToken.None);
                console.Out.WriteLine($"wrote {flamePath}");
            }
            if (profile.Samples.Count > 0)
            {
                StackSet stacks = StackSet.From(profile);
                console.Out.WriteLine($"{"flat",8} {"flat%",7} {"cum",8} {"cum%",7}  function");
                foreach (TopEntry e in TopReport.Compute(stacks).Take(parse.GetValue(top)))
                {
                    console.Out.WriteLine($"{ValueFormat.Format(e.Flat, "nanoseconds"),8} {ValueFormat.Percent(e.Flat, stacks.Total),7} {ValueFormat.Format(e.Cum, "nanoseconds"),8} {ValueFormat.Percent(e.Cum, stacks.Total),7}  {e.Name}");
                }
            }
            else
            {
                console.Out.WriteLine("no samples (the target was idle or exited at once)");
            }
            return sampler.Lost > 0 ? ExitCodes.Warnings : ExitCodes.Ok;
        }, ct));
        return command;
    }

    /// <summary>"svg" or "html" by the file's extension; anything else is a usage error (an .png of SVG text opens nowhere).</summary>
    internal static string FlameFormat(string path, string option, string context = "profile")
    {
        string ext = Path.GetExtension(path).ToLowerInvariant();
        return ext switch
        {
            ".svg" => "svg",
            ".html" or ".htm" => "html",
            _ => throw new UsageException($"{context}: {option} {path}: a flame graph is written as .svg (SVG) or .html (a page with a search box); " +
                $"'{(ext.Length == 0 ? "no extension" : ext)}' is neither (convert the SVG for other formats)"),
        };
    }

    /// <summary>The shell would exec it: a path to an executable file, or a name found on PATH.</summary>
    private static bool IsRunnable(string command)
    {
        static bool Executable(string path) =>
            File.Exists(path) && !OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;
        if (command.Contains('/'))
        {
            return Executable(command);
        }
        string[] path = (Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries);
        return path.Any(dir => Executable(Path.Combine(dir, command)));
    }

    private static TimeSpan ParseDuration(string text) =>
        Durations.TryParse(text, out TimeSpan value) && value > TimeSpan.Zero ? value
        : throw new UsageException($"--for '{text}': give a duration like 10s, 500ms or 2m");
}
