using System.Globalization;

namespace Kscope.Diagnostics.Trace;

/// <summary>Human durations for columns and histograms: 950ns, 12us, 3.4ms, 1.2s.</summary>
public static class Durations
{
    public static string Format(ulong ns) => ns switch
    {
        < 1_000 => $"{ns}ns",
        < 1_000_000 => Trim(ns / 1e3) + "us",
        < 1_000_000_000 => Trim(ns / 1e6) + "ms",
        _ => Trim(ns / 1e9) + "s",
    };

    /// <summary><see cref="Format(ulong)"/> into <paramref name="into"/> (at least 32 chars), without allocating; the length written.</summary>
    public static int Format(ulong ns, Span<char> into)
    {
        int n;
        if (ns < 1_000)
        {
            ns.TryFormat(into, out n, default, CultureInfo.InvariantCulture);
            "ns".CopyTo(into[n..]);
            return n + 2;
        }
        (double v, string unit) = ns switch
        {
            < 1_000_000 => (ns / 1e3, "us"),
            < 1_000_000_000 => (ns / 1e6, "ms"),
            _ => (ns / 1e9, "s"),
        };
        v.TryFormat(into, out n, v >= 100 ? "0" : "0.#", CultureInfo.InvariantCulture);
        unit.CopyTo(into[n..]);
        return n + unit.Length;
    }

    private static string Trim(double v) => v >= 100 ? v.ToString("0", CultureInfo.InvariantCulture) : v.ToString("0.#", CultureInfo.InvariantCulture);

    /// <summary>Parses "500ms", "10s", "2m", "1h", "250us" (a bare number means seconds).</summary>
    public static bool TryParse(string text, out TimeSpan value)
    {
        value = default;
        text = text.Trim();
        (string unit, double scale)[] units = [("ns", 1e-9), ("us", 1e-6), ("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600)];
        foreach ((string unit, double scale) in units.OrderByDescending(u => u.unit.Length))
        {
            if (text.EndsWith(unit, StringComparison.Ordinal) &&
                double.TryParse(text[..^unit.Length], NumberStyles.Float, CultureInfo.InvariantCulture, out double n) && n >= 0)
            {
                value = TimeSpan.FromSeconds(n * scale);
                return true;
            }
        }
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds) && seconds >= 0)
        {
            value = TimeSpan.FromSeconds(seconds);
            return true;
        }
        return false;
    }
}
