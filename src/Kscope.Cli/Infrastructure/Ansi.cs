namespace Kscope.Cli.Infrastructure;

/// <summary>ANSI colours, applied only when the console allows colour.</summary>
public static class Ansi
{
    public static string Green(IConsole c, string s) => Wrap(c, "32", s);
    public static string Yellow(IConsole c, string s) => Wrap(c, "33", s);
    public static string Red(IConsole c, string s) => Wrap(c, "31", s);
    public static string Dim(IConsole c, string s) => Wrap(c, "2", s);
    public static string Bold(IConsole c, string s) => Wrap(c, "1", s);

    private static string Wrap(IConsole c, string code, string s) => c.Color ? $"\u001b[{code}m{s}\u001b[0m" : s;
}
