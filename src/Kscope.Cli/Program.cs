using System.CommandLine;
using Kscope.Cli.Infrastructure;

namespace Kscope.Cli;

public static class Program
{
    public static int Main(string[] args)
    {
        // SIGINT/SIGTERM cancel the command's token (it detaches, drains and writes what it promised, then
        // kscope exits 130 or 143); a second signal quits at once. Only the real process registers them.
        using var signals = TerminationSignals.Register();
        return Run(new SystemConsole(), args, signals.Token, signals.ExitCode);
    }

    /// <summary>
    /// Runs one command line as <c>kscope ARGS</c> does, on <paramref name="console"/>: what Main does minus the signal
    /// registration, and what the tests call in process (tests/Kscope.Cli.Tests/KscopeCli.cs runs the published binary
    /// instead when KSCOPE_BIN is set). A command line that does not parse is one <c>[ERROR] …</c> line and
    /// <see cref="ExitCodes.Usage"/>.
    /// </summary>
    /// <param name="interruptedExitCode">the exit code for a run the token interrupted (130, or 143 after SIGTERM).</param>
    public static int Run(IConsole console, string[] args, CancellationToken cancellationToken = default, Func<int>? interruptedExitCode = null)
    {
        RootCommand root = BuildRoot(console, args.Length > 0 ? args[0] : null);
        ParseResult parse = root.Parse(args);
        if (CommandLineErrors.Check(parse) is { } usage)
        {
            if (usage.ShowHelp)
            {
                return parse.RootCommandResult.Command.Parse([.. CommandLineErrors.PathOf(parse.CommandResult).Skip(1), "--help"])
                    .Invoke(Configuration(console));
            }
            console.Error.WriteLine($"[ERROR] {usage.Message}");
            return ExitCodes.Usage;
        }
        using var context = CommandContext.Enter(string.Join(' ', CommandLineErrors.PathOf(parse.CommandResult)));
        int code = parse.InvokeAsync(Configuration(console), cancellationToken).GetAwaiter().GetResult();
        return code == ExitCodes.Interrupted && interruptedExitCode is not null ? interruptedExitCode() : code;
    }

    private static InvocationConfiguration Configuration(IConsole console) => new()
    {
        Output = console.Out,
        Error = console.Error,
        // Signals are kscope's (TerminationSignals): System.CommandLine's handler would return 130 two seconds
        // after Ctrl-C whether or not the command had written its results, and end the process under it.
        ProcessTerminationTimeout = null,
        // A bug crashes with its stack trace; it must not look like exit code 1 ("completed with warnings").
        EnableDefaultExceptionHandler = false,
    };

    /// <summary>The whole command tree. Each verb is a <c>XxxCommand.Create(console)</c> factory.</summary>
    public static RootCommand BuildRoot(IConsole console) => BuildRoot(console, null);

    /// <summary>
    /// The command tree for a command line whose first word is <paramref name="verb"/>: when it names a verb, only
    /// that verb's subtree is built (start-up is part of every command's speed, and the other verbs' options,
    /// types and assemblies are not needed to parse it); otherwise every verb, for help and suggestions.
    /// </summary>
    public static RootCommand BuildRoot(IConsole console, string? verb)
    {
        var root = new RootCommand(
            "kscope: what a Linux service and the kernel are doing to each other, and why it hurts.\n" +
            "Run 'kscope doctor' first; every command has --help with examples. Exit codes: docs/exit-codes.md.");
        bool known = verb is not null && Array.Exists(s_verbs, v => v.Name == verb);
        foreach ((string name, Func<IConsole, Command> create) in s_verbs)
        {
            if (!known || name == verb)
            {
                root.Subcommands.Add(create(console));
            }
        }
        return root;
    }

    /// <summary>The verbs' names, in help order.</summary>
    public static IEnumerable<string> Verbs => s_verbs.Select(v => v.Name);

    // Keep one line per verb; add new verbs here (the name must be the one the factory gives its command).
    private static readonly (string Name, Func<IConsole, Command> Create)[] s_verbs =
    [
        ("version", Commands.VersionCommand.Create),
        ("trace", Commands.TraceCommand.Create),
        ("btf", Commands.BtfCommand.Create),
        ("doctor", Commands.DoctorCommand.Create),
        ("pprof", Commands.PprofCommand.Create),
        ("profile", Commands.ProfileCommand.Create),
        ("diagnose", Commands.DiagnoseCommand.Create),
        ("symbolize", Commands.SymbolizeCommand.Create),
        ("buildinfo", Commands.BuildInfoCommand.Create),
        ("bpf", Commands.BpfCommand.Create),
        ("kvm", Commands.KvmCommand.Create),
    ];
}
