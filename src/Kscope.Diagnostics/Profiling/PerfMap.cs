using System.Globalization;

namespace Kscope.Diagnostics.Profiling;

/// <summary>A JIT perf map (/tmp/perf-PID.map: "START SIZE name" per line, hex), as .NET writes with DOTNET_PerfMapEnabled=1.</summary>
public sealed class PerfMap
{
    private readonly ulong[] _starts;
    private readonly ulong[] _sizes;
    private readonly string[] _names;

    private PerfMap(List<(ulong, ulong, string)> entries)
    {
        entries.Sort((a, b) => a.Item1.CompareTo(b.Item1));
        _starts = entries.Select(e => e.Item1).ToArray();
        _sizes = entries.Select(e => e.Item2).ToArray();
        _names = entries.Select(e => e.Item3).ToArray();
    }

    /// <summary>Reads the process's perf map through /proc/PID/root (containers), or null.</summary>
    public static PerfMap? Read(int pid)
    {
        foreach (string path in new[] { $"/proc/{pid}/root/tmp/perf-{NsPid(pid)}.map", $"/tmp/perf-{pid}.map" })
        {
            try
            {
                var entries = new List<(ulong, ulong, string)>();
                foreach (string line in File.ReadLines(path))
                {
                    // .NET writes "0x7f31d4230000 110 name", perf's spec and other JITs no prefix.
                    string[] f = line.Split(' ', 3);
                    if (f.Length == 3 &&
                        ulong.TryParse(Hex(f[0]), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong start) &&
                        ulong.TryParse(Hex(f[1]), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong size))
                    {
                        entries.Add((start, size, f[2]));
                    }
                }
                return new PerfMap(entries);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        return null;
    }

    private static ReadOnlySpan<char> Hex(string field) =>
        field.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? field.AsSpan(2) : field;

    private static int NsPid(int pid)
    {
        try
        {
            foreach (string line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("NSpid:", StringComparison.Ordinal))
                {
                    string[] f = line.Split('\t', StringSplitOptions.RemoveEmptyEntries);
                    return int.Parse(f[^1], CultureInfo.InvariantCulture);
                }
            }
        }
        catch (IOException)
        {
        }
        return pid;
    }

    public string? Lookup(ulong address)
    {
        int i = Array.BinarySearch(_starts, address);
        if (i < 0)
        {
            i = ~i - 1;
        }
        return i >= 0 && address - _starts[i] < Math.Max(_sizes[i], 1) ? _names[i] : null;
    }
}
