using System.Globalization;
using System.Text.RegularExpressions;

namespace Kscope.TestKit;

/// <summary>Runs <c>go tool pprof -top</c> and parses its rows (the oracle for flat/cum values).</summary>
internal static partial class GoPprofTop
{
    public sealed record Row(string Name, double Flat, double FlatTolerance, double Cum, double CumTolerance);

    public static List<Row> Run(string profile, int nodeCount = 20, string? sampleIndex = null, params string[] extra)
    {
        var args = new List<string> { "tool", "pprof", "-top", $"-nodecount={nodeCount}" };
        args.AddRange(extra);
        if (sampleIndex is not null)
        {
            args.Add($"-sample_index={sampleIndex}");
        }
        args.Add(profile);
        string output = GoProgram.Go([.. args]);
        var rows = new List<Row>();
        bool table = false;
        foreach (string line in output.Split('\n'))
        {
            if (line.TrimStart().StartsWith("flat  flat%", StringComparison.Ordinal))
            {
                table = true;
                continue;
            }
            if (!table || line.Trim().Length == 0)
            {
                continue;
            }
            string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 6)
            {
                continue;
            }
            var (flat, ft) = Value(parts[0]);
            var (cum, ct) = Value(parts[3]);
            // pprof marks functions only reached through inlined calls "(inline)" / "(partial-inline)".
            string name = string.Join(' ', parts[5..]).Replace(" (partial-inline)", "", StringComparison.Ordinal).Replace(" (inline)", "", StringComparison.Ordinal);
            rows.Add(new Row(name, flat, ft, cum, ct));
        }
        Assert.NotEmpty(rows);
        return rows;
    }

    /// <summary>"205.17s" -> (205.17e9, 0.005e9): value in base units and half the last printed digit.</summary>
    public static (double Value, double Tolerance) Value(string text)
    {
        if (text == "0")
        {
            return (0, 0.5);
        }
        Match m = ValueRegex().Match(text);
        Assert.True(m.Success, $"unparsable go tool pprof value '{text}'");
        string digits = m.Groups[1].Value;
        double v = double.Parse(digits, CultureInfo.InvariantCulture);
        int dot = digits.IndexOf('.');
        double half = 0.5 * Math.Pow(10, dot < 0 ? 0 : -(digits.Length - dot - 1));
        double scale = m.Groups[2].Value switch
        {
            "ns" => 1, "us" or "µs" => 1e3, "ms" => 1e6, "s" => 1e9, "mins" => 60e9, "hrs" => 3600e9,
            "B" => 1, "kB" => 1024, "MB" => 1024.0 * 1024, "GB" => 1024.0 * 1024 * 1024, "TB" => 1024.0 * 1024 * 1024 * 1024,
            "" => 1,
            string u => throw new InvalidOperationException($"unit '{u}'"),
        };
        return (v * scale, half * scale * 1.0001 + 1);
    }

    [GeneratedRegex(@"^([0-9]+(?:\.[0-9]+)?)([a-zA-Zµ]*)$")]
    private static partial Regex ValueRegex();
}
