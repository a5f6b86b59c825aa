using System.Globalization;

namespace Kscope.Diagnostics.Profiling;

/// <summary>/proc/kallsyms: kernel address -> symbol (and module). Addresses read as 0 without root.</summary>
public sealed class KernelSymbols
{
    private readonly ulong[] _addresses;
    private readonly string[] _names;

    private KernelSymbols(ulong[] addresses, string[] names)
    {
        _addresses = addresses;
        _names = names;
    }

    public static KernelSymbols Load(string path = "/proc/kallsyms")
    {
        var list = new List<(ulong, string)>();
        try
        {
            foreach (string line in File.ReadLines(path))
            {
                // ffffffff81000000 T _stext [module]
                string[] f = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
                if (f.Length < 3 || f[1] is not ("T" or "t" or "W" or "w") ||
                    !ulong.TryParse(f[0], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong a) || a == 0)
                {
                    continue;
                }
                list.Add((a, f.Length > 3 ? $"{f[2]} {f[3]}" : f[2]));
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        list.Sort((x, y) => x.Item1.CompareTo(y.Item1));
        return new KernelSymbols(list.Select(x => x.Item1).ToArray(), list.Select(x => x.Item2).ToArray());
    }

    public string? Lookup(ulong address)
    {
        int i = Array.BinarySearch(_addresses, address);
        if (i < 0)
        {
            i = ~i - 1;
        }
        return i >= 0 ? _names[i] : null;
    }
}
