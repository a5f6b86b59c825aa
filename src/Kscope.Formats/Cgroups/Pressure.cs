using Kscope.Formats.Procfs;

namespace Kscope.Formats.Cgroups;

/// <summary>
/// PSI, /proc/pressure/{cpu,memory,io} and cgroup v2 *.pressure (Documentation/accounting/psi.rst):
/// <c>some avg10=0.00 avg60=0.00 avg300=0.00 total=0</c> and the same for "full". Averages are
/// percentages of wall time; total is microseconds stalled.
/// </summary>
public sealed record Pressure(PressureLine Some, PressureLine? Full)
{
    private const string Format = "psi";

    public static Pressure Parse(string text, string source = "/proc/pressure/cpu")
    {
        PressureLine? some = null, full = null;
        foreach (var (line, content) in TextParsing.Lines(text))
        {
            string[] f = TextParsing.Fields(content);
            if (f.Length != 5 || f[0] is not ("some" or "full"))
            {
                throw new MalformedDataException(Format, source, line, $"expected 'some|full avg10=… avg60=… avg300=… total=…', got '{TextParsing.Clip(content)}'");
            }
            var parsed = new PressureLine(
                Percent(f[1], "avg10="), Percent(f[2], "avg60="), Percent(f[3], "avg300="),
                TextParsing.U64(Format, source, line, Value(f[4], "total="), "total"));
            if (f[0] == "some")
            {
                some = parsed;
            }
            else
            {
                full = parsed;
            }

            double Percent(string field, string key)
            {
                double v = TextParsing.Decimal(Format, source, line, Value(field, key), key.TrimEnd('='));
                return v <= 100.0 ? v : throw new MalformedDataException(Format, source, line, $"{key}{v} exceeds 100%");
            }

            string Value(string field, string key) => field.StartsWith(key, StringComparison.Ordinal)
                ? field[key.Length..]
                : throw new MalformedDataException(Format, source, line, $"expected '{key}…', got '{TextParsing.Clip(field)}'");
        }
        return some is null ? throw new MalformedDataException(Format, source, 1, "no 'some' line") : new Pressure(some, full);
    }
}

/// <summary>One PSI line: running averages (percent) and the total stall time (microseconds).</summary>
public sealed record PressureLine(double Avg10, double Avg60, double Avg300, ulong TotalMicroseconds);
