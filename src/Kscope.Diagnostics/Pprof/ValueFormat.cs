using System.Globalization;

namespace Kscope.Diagnostics.Pprof;

/// <summary>Formats sample values in their unit as go tool pprof does: 205.17s, 10ms, 1.50MB, 1234.</summary>
public static class ValueFormat
{
    public static string Format(long value, string unit)
    {
        double v = value;
        string sign = v < 0 ? "-" : "";
        v = Math.Abs(v);
        if (value == 0)
        {
            return "0";
        }
        switch (unit)
        {
            case "nanoseconds":
                return sign + Time(v);
            case "microseconds":
                return sign + Time(v * 1e3);
            case "milliseconds":
                return sign + Time(v * 1e6);
            case "seconds":
                return sign + Time(v * 1e9);
            case "bytes":
                {
                    string[] units = ["B", "kB", "MB", "GB", "TB", "PB"];
                    int i = 0;
                    while (v >= 1024 && i < units.Length - 1)
                    {
                        v /= 1024;
                        i++;
                    }
                    return sign + (i == 0 ? v.ToString("0", CultureInfo.InvariantCulture) : v.ToString("0.##", CultureInfo.InvariantCulture)) + units[i];
                }
            default:
                return sign + v.ToString("0", CultureInfo.InvariantCulture);
        }
    }

    private static string Time(double ns)
    {
        if (ns >= 1e9)
        {
            return (ns / 1e9).ToString("0.00", CultureInfo.InvariantCulture) + "s";
        }
        if (ns >= 1e6)
        {
            return (ns / 1e6).ToString("0.##", CultureInfo.InvariantCulture) + "ms";
        }
        if (ns >= 1e3)
        {
            return (ns / 1e3).ToString("0.##", CultureInfo.InvariantCulture) + "us";
        }
        return ns.ToString("0", CultureInfo.InvariantCulture) + "ns";
    }

    public static string Percent(long part, long total) =>
        total == 0 ? "0%" : (100.0 * part / total).ToString("0.00", CultureInfo.InvariantCulture) + "%";
}
