using Kscope.Formats;

namespace Kscope.Cli.Infrastructure;

/// <summary>The one writer of <c>[ERROR] …</c> lines: the message is escaped (<see cref="PrintableText"/>) so bytes from
/// a malformed input (NUL, CR, ESC, BEL…) are shown, never acted on by the terminal.</summary>
public static class ErrorLine
{
    public static string Format(string message) => "[ERROR] " + PrintableText.Escape(message);

    public static void Write(IConsole console, string message) => console.Error.WriteLine(Format(message));
}
