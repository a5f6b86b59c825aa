using Kscope.Cli.Infrastructure;

namespace Kscope.Cli.Tests;

/// <summary>Main builds only the verb a command line names: that tree must be the full tree's verb, for every verb.</summary>
[Trait(KscopeCli.Mode, KscopeCli.InProcess)] // inspects the command tree objects
public class CommandTreeTests
{
    [Fact]
    public void BuildRoot_ForEachVerb_HasExactlyThatVerb()
    {
        var console = new StringConsole();
        List<string> all = Program.BuildRoot(console).Subcommands.Select(c => c.Name).ToList();
        Assert.Contains("doctor", all);
        foreach (string verb in all)
        {
            Assert.Equal([verb], Program.BuildRoot(console, verb).Subcommands.Select(c => c.Name));
        }
        Assert.Equal(all, Program.BuildRoot(console, "no-such-verb").Subcommands.Select(c => c.Name));
        Assert.Equal(all, Program.BuildRoot(console, "--help").Subcommands.Select(c => c.Name));
    }

    [Fact]
    public void BuildRoot_UnknownVerb_ParseErrorNamesIt()
    {
        var parse = Program.BuildRoot(new StringConsole(), "doctr").Parse(["doctr"]);
        Assert.Contains(parse.Errors, e => e.Message.Contains("doctr", StringComparison.Ordinal));
    }
}
