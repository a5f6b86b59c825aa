using System.CommandLine;
using System.CommandLine.Parsing;

namespace Kscope.Cli.Infrastructure;

/// <summary>
/// A command line that does not parse, in kscope's words: one line naming the word or option at fault and the
/// --help to read (<c>kscope trace: unknown option '--bogus'; see 'kscope trace --help'</c>), never System.CommandLine's
/// text (it names .NET types, and prints the whole help after it).
/// </summary>
public static class CommandLineErrors
{
    /// <summary>What is wrong with <paramref name="parse"/>: a message, help to show instead (a group named alone), or null when it is fine.</summary>
    public static (string Message, bool ShowHelp)? Check(ParseResult parse)
    {
        CommandResult at = parse.CommandResult;
        Command command = at.Command;
        string full = string.Join(' ', PathOf(at));
        string hint = $"see '{full} --help'";
        string path = Context(full); // messages start like kscope's others: "trace: …"
        if (parse.Action is System.CommandLine.Help.HelpAction)
        {
            return null; // --help wins over everything else on the line
        }
        if (parse.UnmatchedTokens.Count > 0)
        {
            return (Unmatched(command, path, parse.UnmatchedTokens[0]) + "; " + hint, false);
        }
        if (parse.Errors.Count == 0)
        {
            return TrailingCommandError(parse, command, path) is string trailing ? (trailing + "; " + hint, false) : null;
        }
        if (command.Action is null && command.Subcommands.Count > 0)
        {
            return ("", true); // 'kscope' or 'kscope bpf' alone: what can follow
        }
        ParseError error = parse.Errors[0];
        return (Describe(error, command, path) + "; " + hint, false);
    }

    /// <summary>"trace" for "kscope trace", "kscope" for the root: the first word of a message.</summary>
    internal static string Context(string path) => path.StartsWith("kscope ", StringComparison.Ordinal) ? path[7..] : path;

    /// <summary>"kscope", "trace" for <c>kscope trace …</c> (the root's name is the executable's, so it is spelled here).</summary>
    public static IReadOnlyList<string> PathOf(CommandResult result)
    {
        var names = new List<string>();
        for (SymbolResult? r = result; r is not null; r = r.Parent)
        {
            if (r is CommandResult c)
            {
                names.Add(c.Parent is null ? "kscope" : c.Command.Name);
            }
        }
        names.Reverse();
        return names;
    }

    private static string Unmatched(Command command, string path, string token)
    {
        if (token.StartsWith('-') && token.Length > 1)
        {
            string name = token.Split('=', 2)[0];
            string? near = Nearest(name, AllOptions(command).SelectMany(o => o.Aliases.Prepend(o.Name)));
            return $"{path}: unknown option '{name}'{(near is null ? "" : $" (did you mean '{near}'?)")}";
        }
        if (command.Subcommands.Count > 0)
        {
            IEnumerable<string> names = command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name);
            string? near = Nearest(token, names);
            return $"{path}: unknown command '{token}'" + (near is not null ? $" (did you mean '{near}'?)" : $" (commands: {string.Join(", ", names)})");
        }
        return $"{path}: unexpected argument '{token}'";
    }

    /// <summary>A trailing COMMAND… argument took words that came before '--': an unknown option, or a word out of place.</summary>
    private static string? TrailingCommandError(ParseResult parse, Command command, string path)
    {
        foreach (CommandArgument argument in command.Arguments.OfType<CommandArgument>())
        {
            if (parse.GetResult(argument) is not ArgumentResult result || result.Tokens.Count == 0)
            {
                continue;
            }
            int afterDoubleDash = 0;
            bool seen = false;
            foreach (Token t in parse.Tokens)
            {
                if (seen)
                {
                    afterDoubleDash++;
                }
                seen |= t.Type == TokenType.DoubleDash;
            }
            if (result.Tokens.Count <= afterDoubleDash)
            {
                continue;
            }
            string first = result.Tokens[0].Value;
            return first.StartsWith('-') && first.Length > 1
                ? Unmatched(command, path, first)
                : $"{path}: unexpected argument '{first}' (a command to run goes after '--': kscope {path} … -- {first})";
        }
        return null;
    }

    private static string Describe(ParseError error, Command command, string path)
    {
        switch (error.SymbolResult)
        {
            case OptionResult o:
                return OptionError(o, o.Tokens, path) ?? $"{path}: {error.Message}";
            case ArgumentResult { Parent: OptionResult o } a:
                return OptionError(o, a.Tokens, path) ?? $"{path}: {error.Message}";
            case ArgumentResult a:
                if (a.Tokens.Count < a.Argument.Arity.MinimumNumberOfValues)
                {
                    return $"{path}: missing {Name(a.Argument)}";
                }
                return IsText(a.Argument.ValueType) ? $"{path}: {error.Message}" : $"{path}: {Name(a.Argument)} '{Bad(a.Tokens, a.Argument.ValueType)}' {Expected(a.Argument.ValueType, a.Argument.Name)}";
            case CommandResult c:
                foreach (Argument argument in c.Command.Arguments)
                {
                    if (argument.Arity.MinimumNumberOfValues > 0 && (c.GetResult(argument) is not ArgumentResult r || r.Tokens.Count < argument.Arity.MinimumNumberOfValues))
                    {
                        return $"{path}: missing {Name(argument)}";
                    }
                }
                foreach (Option option in c.Command.Options)
                {
                    if (option.Required && c.GetResult(option) is null)
                    {
                        return $"{path}: {option.Name} is required";
                    }
                }
                return $"{path}: {error.Message}";
            default:
                return $"{path}: {error.Message}";
        }
    }

    /// <summary>A missing or unparsable option value; null for a validator's own message (which is kept).</summary>
    private static string? OptionError(OptionResult o, IReadOnlyList<Token> tokens, string path)
    {
        Option option = o.Option;
        if (o.IdentifierToken is null)
        {
            return $"{path}: {option.Name} is required";
        }
        if (tokens.Count == 0)
        {
            return $"{path}: {option.Name} needs a value{(option.HelpName is { } h ? $" ({h})" : "")}";
        }
        if (IsText(option.ValueType))
        {
            return null;
        }
        return $"{path}: {option.Name} '{Bad(tokens, option.ValueType)}' {Expected(option.ValueType, option.Name)}";
    }

    private static bool IsText(Type t) => t == typeof(string) || t == typeof(string[]) || t == typeof(bool);

    /// <summary>The first token that does not parse as the value type (the one to name).</summary>
    private static string Bad(IReadOnlyList<Token> tokens, Type type)
    {
        foreach (Token t in tokens)
        {
            bool ok = Element(type) switch
            {
                var e when e == typeof(int) => int.TryParse(t.Value, System.Globalization.CultureInfo.InvariantCulture, out _),
                var e when e == typeof(uint) => uint.TryParse(t.Value, System.Globalization.CultureInfo.InvariantCulture, out _),
                var e when e == typeof(long) => long.TryParse(t.Value, System.Globalization.CultureInfo.InvariantCulture, out _),
                _ => false,
            };
            if (!ok)
            {
                return t.Value;
            }
        }
        return tokens[^1].Value;
    }

    private static Type Element(Type t) =>
        t == typeof(int?) || t == typeof(int[]) ? typeof(int) : t == typeof(uint?) || t == typeof(uint[]) ? typeof(uint) : t == typeof(long?) || t == typeof(long[]) ? typeof(long) : t;

    private static string Expected(Type type, string name)
    {
        Type e = Element(type);
        if (name is "--pid" or "--tid")
        {
            return "is not a process id (a positive whole number)";
        }
        return e == typeof(int) || e == typeof(long) ? "is not a whole number"
            : e == typeof(uint) ? "is not a whole number >= 0"
            : "is not a valid value";
    }

    private static string Name(Argument a) => (a.HelpName ?? a.Name).ToUpperInvariant();

    private static IEnumerable<Option> AllOptions(Command command) => command.Options.Where(o => !o.Hidden);

    /// <summary>The closest name by edit distance (at most 2 edits, or a prefix), for "did you mean".</summary>
    internal static string? Nearest(string word, IEnumerable<string> names)
    {
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (string name in names)
        {
            int d = name.StartsWith(word, StringComparison.Ordinal) && word.TrimStart('-').Length >= 2 ? 1 : Distance(word, name);
            if (d < bestDistance)
            {
                (best, bestDistance) = (name, d);
            }
        }
        return bestDistance <= Math.Min(2, Math.Max(1, word.Length / 3)) ? best : null;
    }

    /// <summary>Edits (insert, delete, substitute, swap two neighbours) from <paramref name="a"/> to <paramref name="b"/>: "--pdi" is one from "--pid".</summary>
    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }
        for (int j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }
        for (int i = 1; i <= a.Length; i++)
        {
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }
        return d[a.Length, b.Length];
    }
}
