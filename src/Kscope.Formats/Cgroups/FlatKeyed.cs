using Kscope.Formats.Procfs;

namespace Kscope.Formats.Cgroups;

/// <summary>
/// Flat keyed cgroup files (cgroup-v2.rst "Interface Files": <c>KEY0 VAL0\nKEY1 VAL1</c>): cpu.stat,
/// memory.stat, memory.events, pids.events, v1 cpu.stat (nr_periods, nr_throttled, throttled_time).
/// </summary>
public static class FlatKeyed
{
    public static IReadOnlyDictionary<string, ulong> Parse(string text, string source, string format = "cgroup flat-keyed")
    {
        var values = new Dictionary<string, ulong>(StringComparer.Ordinal);
        foreach (var (line, content) in TextParsing.Lines(text))
        {
            string[] f = TextParsing.Fields(content);
            if (f.Length != 2)
            {
                throw new MalformedDataException(format, source, line, $"expected 'key value', got '{TextParsing.Clip(content)}'");
            }
            if (!values.TryAdd(f[0], TextParsing.U64(format, source, line, f[1], f[0])))
            {
                throw new MalformedDataException(format, source, line, $"duplicate key '{TextParsing.Clip(f[0])}'");
            }
        }
        return values;
    }
}
