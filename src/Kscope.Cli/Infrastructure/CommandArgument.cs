using System.CommandLine;

namespace Kscope.Cli.Infrastructure;

/// <summary>
/// <c>-- COMMAND ARGS…</c>: the program a verb starts (trace, profile). Only the words after <c>--</c> are the
/// command; anything before it is parsed as kscope's own options, so <c>kscope trace exec --bogus</c> is an unknown
/// option, not a program named --bogus (<see cref="CommandLineErrors"/> checks it).
/// </summary>
public sealed class CommandArgument : Argument<string[]>
{
    public CommandArgument(string description) : base("command")
    {
        Description = description;
        HelpName = "-- COMMAND";
        Arity = ArgumentArity.ZeroOrMore;
    }
}
