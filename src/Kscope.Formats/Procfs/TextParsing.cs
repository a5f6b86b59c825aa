using System.Globalization;

namespace Kscope.Formats.Procfs;

/// <summary>
/// Shared helpers of the procfs / cgroupfs / sysctl text parsers: line splitting that keeps 1-based
/// line numbers, and number parsing that throws <see cref="MalformedDataException"/> naming the
/// format, the source file and the line (never FormatException or OverflowException).
/// </summary>
public static class TextParsing
{
    /// <summary>Lines of <paramref name="text"/> with their 1-based numbers; a trailing newline does not add an empty line.</summary>
    public static IEnumerable<(int Line, string Text)> Lines(string text)
    {
        int line = 0;
        int start = 0;
        while (start < text.Length)
        {
            int end = text.IndexOf('\n', start);
            if (end < 0)
            {
                end = text.Length;
            }
            line++;
            yield return (line, text[start..end]);
            start = end + 1;
        }
    }

    public static ulong U64(string format, string source, int line, string text, string what)
    {
        if (text.Length == 0 || text.Length > 20 || !ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out ulong value))
        {
            throw new MalformedDataException(format, source, line, $"{what}: '{Clip(text)}' is not an unsigned 64-bit number");
        }
        return value;
    }

    public static long I64(string format, string source, int line, string text, string what)
    {
        if (text.Length == 0 || text.Length > 20 || !long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
        {
            throw new MalformedDataException(format, source, line, $"{what}: '{Clip(text)}' is not a signed 64-bit number");
        }
        return value;
    }

    public static int I32(string format, string source, int line, string text, string what)
    {
        if (text.Length == 0 || text.Length > 11 || !int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value))
        {
            throw new MalformedDataException(format, source, line, $"{what}: '{Clip(text)}' is not a 32-bit number");
        }
        return value;
    }

    public static ulong Hex64(string format, string source, int line, string text, string what)
    {
        if (text.Length == 0 || text.Length > 16 || !ulong.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong value))
        {
            throw new MalformedDataException(format, source, line, $"{what}: '{Clip(text)}' is not a 64-bit hexadecimal number");
        }
        return value;
    }

    public static double Decimal(string format, string source, int line, string text, string what)
    {
        if (text.Length == 0 || text.Length > 24 || !double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value))
        {
            throw new MalformedDataException(format, source, line, $"{what}: '{Clip(text)}' is not a decimal number");
        }
        return value;
    }

    /// <summary>Splits on runs of spaces and tabs.</summary>
    public static string[] Fields(string text) => text.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Shortens hostile input before it goes into an error message.</summary>
    public static string Clip(string text) => text.Length <= 40 ? text : text[..40] + "…";
}
