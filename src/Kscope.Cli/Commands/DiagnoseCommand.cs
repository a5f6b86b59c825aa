using System.CommandLine;
using System.Globalization;
using System.Reflection;
using Kscope.Cli.Infrastructure;
using Kscope.Diagnostics.Diagnose;
using Kscope.Diagnostics.Profiling;
using Kscope.Diagnostics.Trace;
using Kscope.Formats.Pprof;
using Kscope.Kernel.Host;

namespace Kscope.Cli.Commands;

/// <summary><c>kscope diagnose</c>: one capture window on one target, every source at once, then ranked findings with evidence.</summary>
public static class DiagnoseCommand
{
    public static Command Create(IConsole console)
    {
        var command = new Command("diagnose",
            "Watch a service for a while with every source at once, on one clock, and say what hurts it and what to change.\n" +
            "Sources: cgroup and /proc counters every --interval (cpu.stat throttling, PSI, memory, pids; threads, fds,\n" +
            "context switches, schedstat run-queue wait), the CPU sampler (on-CPU stacks, written as cpu.pb.gz) and eBPF\n" +
            "gadgets: runqlat, and open, oom, tcp and signal filtered in the kernel to failures. Rules turn them into findings\n" +
            "ranked by the time they cost: cpu_throttling (CFS quota, with GOMAXPROCS / DOTNET_PROCESSOR_COUNT above the quota),\n" +
            "cpu_contention (run-queue waits without throttling), fd_exhaustion (descriptors near RLIMIT_NOFILE, EMFILE),\n" +
            "pids_exhaustion (tasks near the cgroup's pids.max), oom_kill (the OOM killer killed a process), tcp_errors\n" +
            "(failed connects, resets, retransmits), process_killed (a signal ended a process, and who sent it).\n" +
            "A healthy target gets \"no problem found\" and the numbers that show it. Reports go to --out: findings.json\n" +
            "(schema kscope.diagnose/v1, docs/diagnose.md) and cpu.pb.gz (go tool pprof, kscope pprof top).\n" +
            "Examples:\n" +
            "  kscope diagnose --pid 1234 --for 30s\n" +
            "  kscope diagnose --cgroup /sys/fs/cgroup/system.slice/app.service --for 1m --out /tmp/app-diag\n" +
            "  kscope diagnose --pid 1234 --for 10s --json | jq '.findings[] | {kind, severity, title}'\n" +
            "  kscope diagnose --for 20s -- ./server --port 8080\n" +
            "Ctrl-C or SIGTERM ends the window early: the report of what was captured is still written, then kscope exits\n" +
            "130 (143 after SIGTERM). Exit codes: 0 no problem found (nothing above info), 1 worst finding a warning,\n" +
            "2 a critical one; 3, 4, 5, 64 as in docs/exit-codes.md.");
        Option<int?> pid = CommonOptions.Pid("Diagnose this running process (all its threads; the children it starts share its cgroups).");
        var cgroup = new Option<string?>("--cgroup") { Description = "Diagnose the processes of this cgroup directory (v2, or a v1 directory such as /sys/fs/cgroup/cpu/X)." };
        var duration = new Option<string?>("--for") { Description = "How long to watch: 30s, 500ms, 2m (default 30s; with a COMMAND: until it exits or this long)." };
        var output = new Option<string?>("--out") { Description = "Directory for findings.json and cpu.pb.gz (created; default ./kscope-diagnose-YYYYMMDD-HHMMSS)." };
        var interval = new Option<string>("--interval") { Description = "Counter polling interval (10ms..10s).", DefaultValueFactory = _ => "100ms" };
        var frequency = new Option<int>("-F", "--frequency") { Description = "CPU sampler frequency per CPU (0 turns the sampler off).", DefaultValueFactory = _ => 99 };
        var noGadgets = new Option<bool>("--no-gadgets") { Description = "Do not load eBPF gadgets (runqlat, open, oom, tcp, signal): counters and the sampler only." };
        Option<bool> json = CommonOptions.Json();
        var program = new CommandArgument("After '--': a command to start and diagnose (until it exits, or --for).");
        command.Options.Add(pid);
        command.Options.Add(cgroup);
        command.Options.Add(duration);
        command.Options.Add(output);
        command.Options.Add(interval);
        command.Options.Add(frequency);
        command.Options.Add(noGadgets);
        command.Options.Add(json);
        command.Arguments.Add(program);
        command.SetAction((parse, ct) => CommandRunner.RunAsync(console, token =>
        {
            string[] argv = parse.GetValue(program) ?? [];
            int targets = (parse.GetValue(pid) is null ? 0 : 1) + (parse.GetValue(cgroup) is null ? 0 : 1) + (argv.Length > 0 ? 1 : 0);
            if (targets != 1)
            {
                throw new UsageException("give exactly one of --pid N, --cgroup PATH or -- COMMAND…");
            }
            int hz = parse.GetValue(frequency);
            if (hz is < 0 or > 100_000)
            {
                throw new UsageException($"-F {hz}: give 0..100000 samples per second");
            }
            string? forText = parse.GetValue(duration);
            TimeSpan length = forText is null ? (argv.Length > 0 ? TimeSpan.FromDays(365) : TimeSpan.FromSeconds(30)) : Duration(forText, "--for");
            TimeSpan every = Duration(parse.GetValue(interval)!, "--interval");
            if (every < TimeSpan.FromMilliseconds(10) || every > TimeSpan.FromSeconds(10))
            {
                throw new UsageException($"--interval {parse.GetValue(interval)}: give 10ms..10s");
            }
            // The output directory is made and checked now, not after the window.
            string dir = parse.GetValue(output) ?? Path.Combine(Environment.CurrentDirectory, $"kscope-diagnose-{DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}");
            string? parent = Path.GetDirectoryName(Path.GetFullPath(dir));
            if (parent is not null && !Directory.Exists(parent))
            {
                throw new CommandException($"diagnose: --out {dir}: the directory {parent} does not exist; create it or give another --out");
            }
            if (File.Exists(dir))
            {
                throw new CommandException($"diagnose: --out {dir}: is a file; give a directory");
            }
            Directory.CreateDirectory(dir);
            string findingsPath = Path.Combine(dir, "findings.json");
            FileChecks.Output("diagnose", "--out", findingsPath);

            using StoppedCommand? child = argv.Length > 0 ? StoppedCommand.Start(argv, verb: "diagnose") : null;
            DiagnoseTarget target;
            try
            {
                target = child is not null ? DiagnoseTarget.ForProcess(child.Pid, $"command {string.Join(' ', argv)}")
                    : parse.GetValue(cgroup) is string cg ? DiagnoseTarget.ForCgroup(cg)
                    : DiagnoseTarget.ForProcess(parse.GetValue(pid)!.Value);
            }
            catch (TraceTargetException e)
            {
                throw new UsageException(e.Message);
            }
            RuntimeFacts? startFacts = TryFacts(target);
            var options = new CaptureOptions { Duration = length, Interval = every, Frequency = hz, RunQueueLatency = !parse.GetValue(noGadgets), EventGadgets = !parse.GetValue(noGadgets) };
            console.Error.WriteLine($"diagnosing {target.Description} {(forText is null && child is not null ? "until it exits" : $"for {length.TotalSeconds:0.###}s")}: " +
                $"counters every {every.TotalMilliseconds:0} ms{(hz > 0 ? $", CPU sampler {hz} Hz" : "")}{(options.RunQueueLatency ? ", runqlat" : "")}{(options.EventGadgets ? ", open errors, OOM kills, TCP errors, killing signals" : "")}; Ctrl-C stops early and still writes the report");
            Action<TimeSpan>? progress = console.IsTerminal
                ? t => console.Error.Write($"\r{Ansi.Dim(console, $"capturing {t.TotalSeconds:0.0}s")}   ")
                : null;
            int targetPid = target.Pid;
            CaptureResult capture = Capture.Run(target, options, token,
                targetGone: child is not null ? () => child.HasExited : () => !Directory.Exists($"/proc/{targetPid}"),
                started: () =>
                {
                    child?.Resume();
                    if (!console.IsTerminal)
                    {
                        // where no progress line is drawn (a log, a script, a test): when the window opened
                        console.Error.WriteLine($"window open at {DateTime.Now:HH:mm:ss.fff}: every source started");
                    }
                },
                pendingExecPid: child?.Pid,
                progress: progress);
            if (console.IsTerminal)
            {
                console.Error.WriteLine();
            }
            RuntimeFacts facts = TryFacts(target) ?? startFacts ?? new RuntimeFacts { EffectiveCpus = target.Limits.EffectiveCpus.Value.Count, ConcurrencyLimit = target.Limits.EffectiveCpus.Value.Count };
            if (child is not null && !child.HasExited)
            {
                child.Dispose(); // --for ended first: stop the command
            }
            Diagnosis diagnosis = Diagnosis.Evaluate(new DiagnoseContext(capture, facts));

            // Interrupted or not, what was captured is written (the writes do not take the token).
            var files = new List<string> { findingsPath };
            if (capture.CpuProfile is Profile profile)
            {
                string cpuPath = Path.Combine(dir, "cpu.pb.gz");
                ProfileWriter.WriteFile(profile, cpuPath);
                files.Add(cpuPath);
            }
            string version = typeof(DiagnoseCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
            using (var buffer = new MemoryStream())
            {
                DiagnoseJson.Write(buffer, diagnosis, version, DateTimeOffset.UtcNow, files);
                File.WriteAllBytes(findingsPath, buffer.ToArray());
                if (parse.GetValue(json))
                {
                    console.Out.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
                }
            }
            if (!parse.GetValue(json))
            {
                DiagnoseText.Write(console.Out, diagnosis);
                console.Out.WriteLine($"wrote {string.Join(", ", files)}");
            }
            else
            {
                console.Error.WriteLine($"wrote {string.Join(", ", files)}");
            }
            int code = diagnosis.Worst switch
            {
                Severity.Critical => ExitCodes.Failures,
                Severity.Warning => ExitCodes.Warnings,
                _ => ExitCodes.Ok,
            };
            return Task.FromResult(code);
        }, ct));
        return command;
    }

    private static RuntimeFacts? TryFacts(DiagnoseTarget target)
    {
        try
        {
            return RuntimeFacts.Read(target.Pid, CgroupLimits.Read(target.Pid));
        }
        catch (Exception e) when (e is Kscope.Native.KernelException or Kscope.Formats.MalformedDataException or IOException)
        {
            return null; // the process is gone
        }
    }

    private static TimeSpan Duration(string text, string option) =>
        Durations.TryParse(text, out TimeSpan value) && value > TimeSpan.Zero ? value
        : throw new UsageException($"{option} '{text}': give a duration like 10s, 500ms or 2m");
}
