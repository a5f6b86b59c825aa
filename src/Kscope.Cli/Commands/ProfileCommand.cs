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
            "  kscope profile --container 3f2a9c --for 30s");
        Option<int?> pid = CommonOptions.Pid("Sample this process and its threads (and children started while sampling).");
        var cgroup = new Option<string?>("--cgroup") { Description = "Sample the processes of this cgroup directory (perf_event cgroup)." };
        var container = new Option<string?>("--container") { Description = "Sample a container's processes by its id (6+ characters, found in /proc/*/cgroup): its perf_event cgroup." };
        var all = new Option<bool>("--all", "-a") { Description = "Sample every process on every CPU." };
        var frequency = new Option<int>("-F", "--frequency") { Description = "Samples per second per CPU.", DefaultValueFactory = _ => 99 };
        var duration = new Option<string?>("--for") { Description = "How long: 10s, 500ms, 2m (default 10s; with a COMMAND: until it exits)." };
        var output = new Option<string>("--output", "-o") { Description = "Where to write the gzipped pprof profile.", DefaultValueFactory = _ => "profile.pb.gz" };
        var offCpu = new Option<bool>("--off-cpu") { Description = "Also record time blocked off CPU (the offcpu gadget, kernel and user stacks) as a second sample type, off_cpu; needs --pid or a COMMAND." };
        var flame = new Option<string?>("--flame") { Description = "Also write a flame graph (.svg or .html)." };
        var top = new Option<int>("-n") { Description = "Functions in the summary.", DefaultValueFactory = _ => 10 };
        var program = new Argument<string[]>("command") { Description = "A command to start and profile (after --).", Arity = ArgumentArity.ZeroOrMore };
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
                    : new ProfileTarget(parse.GetValue(pid), parse.GetValue(cgroup), parse.GetValue(all));
            }
            catch (TraceTargetException e)
            {
                throw new UsageException(e.Message);
            }
            var sampler = new CpuSampler();
            using OffCpuCollector? blocked = parse.GetValue(offCpu)
                ? OffCpuCollector.Start(target.Pid ?? throw new UsageException("--off-cpu needs --pid N or -- COMMAND (the offcpu gadget follows one process and its children)"))
                : null;
            if (blocked is not null)
            {
                sampler.OffCpu = blocked.Read;
            }
            Action<TimeSpan, ulong>? progress = console.IsTerminal
                ? (t, n) => console.Error.Write($"\r{Ansi.Dim(console, $"sampling {target} at {hz} Hz: {t.TotalSeconds:0.0}s, {n} samples")}   ")
                : null;
            Profile profile = await sampler.RunAsync(target, hz, length, progress, child is null ? null : () => child.HasExited, token, child is null ? null : child.Resume);
            if (console.IsTerminal)
            {
                console.Error.WriteLine();
            }
            if (child is not null && !child.HasExited)
            {
                child.Dispose(); // --for ended first: stop the command (Dispose kills it)
            }
            string path = parse.GetValue(output)!;
            ProfileWriter.WriteFile(profile, path);
            console.Out.WriteLine($"wrote {path}: {sampler.Samples} samples of {target} at {hz} Hz{(sampler.Lost > 0 ? $", {sampler.Lost} lost" : "")}");
            if (parse.GetValue(flame) is { } flamePath)
            {
                StackSet fs = StackSet.From(profile);
                string title = $"kscope profile {target} — cpu";
                await File.WriteAllTextAsync(flamePath, flamePath.EndsWith(".html", StringComparison.OrdinalIgnoreCase)
                    ? FlameGraph.Html(FlameNode.Build(fs), title, "nanoseconds")
                    : FlameGraph.Svg(FlameNode.Build(fs), title, "nanoseconds"), token);
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
