using Kscope.Formats.Procfs;

namespace Kscope.Formats.Cgroups;

/// <summary>
/// The kernel's CPU/node list format (cpuset.cpus.effective, Cpus_allowed_list, /sys/devices/system/node/online):
/// <c>0-3,8,10-11</c>; empty means no CPUs. Sorted, without duplicates.
/// </summary>
public static class CpuList
{
    /// <summary>Bigger than any real system's NR_CPUS; bounds the work hostile input can cause.</summary>
    public const int MaxCpu = 1 << 16;

    public static IReadOnlyList<int> Parse(string text, string source = "cpuset.cpus.effective")
    {
        const string Format = "cpu list";
        string content = text.Trim();
        var cpus = new SortedSet<int>();
        if (content.Length == 0)
        {
            return [];
        }
        if (content.Contains('\n'))
        {
            throw new MalformedDataException(Format, source, 2, "expected a single line");
        }
        foreach (string part in content.Split(','))
        {
            int dash = part.IndexOf('-');
            int first = Cpu(dash < 0 ? part : part[..dash]);
            int last = dash < 0 ? first : Cpu(part[(dash + 1)..]);
            if (last < first)
            {
                throw new MalformedDataException(Format, source, 1, $"range '{TextParsing.Clip(part)}' runs backwards");
            }
            for (int cpu = first; cpu <= last; cpu++)
            {
                cpus.Add(cpu);
            }
        }
        return [.. cpus];

        int Cpu(string s)
        {
            int cpu = TextParsing.I32(Format, source, 1, s, "cpu");
            return cpu is >= 0 and < MaxCpu ? cpu : throw new MalformedDataException(Format, source, 1, $"cpu {cpu} out of range 0..{MaxCpu - 1}");
        }
    }

    /// <summary>The kernel's compact spelling of a set: 0-3,8.</summary>
    public static string Format(IEnumerable<int> cpus)
    {
        var parts = new List<string>();
        int start = -2, prev = -2;
        foreach (int c in cpus.Order())
        {
            if (c == prev + 1)
            {
                prev = c;
                continue;
            }
            Flush();
            start = prev = c;
        }
        Flush();
        return string.Join(',', parts);

        void Flush()
        {
            if (start >= 0)
            {
                parts.Add(start == prev ? $"{start}" : $"{start}-{prev}");
            }
        }
    }
}
