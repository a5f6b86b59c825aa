using System.Globalization;

namespace Kscope.Diagnostics.Profiling;

/// <summary>The executable mappings of a process (/proc/PID/maps), to turn runtime addresses into file offsets.</summary>
public sealed class ProcessMaps
{
    public sealed record Region(ulong Start, ulong End, ulong Offset, string Path);

    private ProcessMaps(List<Region> regions) => Regions = regions;

    public IReadOnlyList<Region> Regions { get; }

    /// <summary>Reads /proc/PID/maps; null when the process is gone.</summary>
    public static ProcessMaps? Read(int pid)
    {
        var regions = new List<Region>();
        try
        {
            foreach (string line in File.ReadLines($"/proc/{pid}/maps"))
            {
                // 00400000-0067a000 r-xp 00000000 fd:01 123  /path/prog
                string[] f = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
                if (f.Length < 6 || f[1].Length < 3 || f[1][2] != 'x')
                {
                    continue;
                }
                int dash = f[0].IndexOf('-');
                if (dash < 0 ||
                    !ulong.TryParse(f[0].AsSpan(0, dash), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong start) ||
                    !ulong.TryParse(f[0].AsSpan(dash + 1), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong end) ||
                    !ulong.TryParse(f[2], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong offset))
                {
                    continue;
                }
                regions.Add(new Region(start, end, offset, f[5].Trim()));
            }
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
        return new ProcessMaps(regions);
    }

    public Region? Find(ulong address)
    {
        foreach (Region r in Regions)
        {
            if (address >= r.Start && address < r.End)
            {
                return r;
            }
        }
        return null;
    }
}
