using System.Text;

namespace Kscope.Formats;

/// <summary>
/// Makes text from outside (a malformed line, a symbol name, a path) safe to print on a terminal: control
/// characters (C0 including NUL, CR, LF, ESC and BEL; DEL; C1), bidirectional overrides and line separators
/// become visible escapes (<c>\r</c>, <c>\x1b</c>, <c>\u202e</c>), so an error line is one line that a terminal
/// cannot act on. The one place kscope escapes text for a terminal: every <c>[ERROR]</c> line goes through it.
/// </summary>
public static class PrintableText
{
    public static string Escape(string text)
    {
        int first = 0;
        while (first < text.Length && !NeedsEscape(text[first]))
        {
            first++;
        }
        if (first == text.Length)
        {
            return text;
        }
        var sb = new StringBuilder(text.Length + 16).Append(text, 0, first);
        for (int i = first; i < text.Length; i++)
        {
            char c = text[i];
            if (!NeedsEscape(c))
            {
                sb.Append(c);
                continue;
            }
            switch (c)
            {
                case '\r': sb.Append("\\r"); break;
                case '\n': sb.Append("\\n"); break;
                case '\t': sb.Append("\\t"); break;
                case '\0': sb.Append("\\0"); break;
                case < '\u0100': sb.Append("\\x").Append(((int)c).ToString("x2", System.Globalization.CultureInfo.InvariantCulture)); break;
                default: sb.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture)); break;
            }
        }
        return sb.ToString();
    }

    private static bool NeedsEscape(char c) =>
        c < ' ' || c is >= '\u007f' and <= '\u009f'
        || c is >= '\u202a' and <= '\u202e' || c is >= '\u2066' and <= '\u2069' || c is '\u2028' or '\u2029' or '\u200e' or '\u200f';
}
