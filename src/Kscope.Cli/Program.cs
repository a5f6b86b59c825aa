using System.CommandLine;
using Kscope.Cli.Infrastructure;

namespace Kscope.Cli;

public static class Program
{
    public static int Main(string[] args) =>
        BuildRoot(new SystemConsole(), args.Length > 0 ? args[0] : null).Parse(args).Invoke();

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
            "Run 'kscope doctor' first; every command has --help with examples.");
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

    // Keep one line per verb; add new verbs here (the name must be the one the factory gives its command).
    private static readonly (string Name, Func<IConsole, Command> Create)[] s_verbs =
    [
        ("version", Commands.VersionCommand.Create),
        ("trace", Commands.TraceCommand.Create),
        ("btf", Commands.BtfCommand.Create),
        ("doctor", Commands.DoctorCommand.Create),
        ("pprof", Commands.PprofCommand.Create),
        ("profile", Commands.ProfileCommand.Create),
        ("symbolize", Commands.SymbolizeCommand.Create),
        ("buildinfo", Commands.BuildInfoCommand.Create),
        ("bpf", Commands.BpfCommand.Create),
        ("kvm", Commands.KvmCommand.Create),
    ];
}
