using System.CommandLine;
using Kscope.Cli.Infrastructure;

namespace Kscope.Cli;

public static class Program
{
    public static int Main(string[] args) => BuildRoot(new SystemConsole()).Parse(args).Invoke();

    /// <summary>The whole command tree. Each verb is a <c>XxxCommand.Create(console)</c> factory.</summary>
    public static RootCommand BuildRoot(IConsole console)
    {
        var root = new RootCommand(
            "kscope: what a Linux service and the kernel are doing to each other, and why it hurts.\n" +
            "Run 'kscope doctor' first; every command has --help with examples.");
        foreach (Command command in Verbs(console))
        {
            root.Subcommands.Add(command);
        }
        return root;
    }

    private static IEnumerable<Command> Verbs(IConsole console)
    {
        // Keep one line per verb; add new verbs here.
        yield return Commands.VersionCommand.Create(console);
        yield return Commands.TraceCommand.Create(console);
        yield return Commands.BtfCommand.Create(console);
        yield return Commands.DoctorCommand.Create(console);
        yield return Commands.PprofCommand.Create(console);
        yield return Commands.ProfileCommand.Create(console);
        yield return Commands.SymbolizeCommand.Create(console);
        yield return Commands.BuildInfoCommand.Create(console);
        yield return Commands.BpfCommand.Create(console);
        yield return Commands.KvmCommand.Create(console);
    }
}
