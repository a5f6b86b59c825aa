using System.CommandLine;

namespace Kscope.Cli.Infrastructure;

/// <summary>Options shared by several verbs: one definition, one help text.</summary>
public static class CommonOptions
{
    public static Option<bool> Json() => new("--json")
    {
        Description = "Write machine-readable JSON (schema in docs/) instead of a table.",
    };

    public static Option<int?> Pid(string description = "Target process id.") => new("--pid", "-p")
    {
        Description = description,
    };
}
