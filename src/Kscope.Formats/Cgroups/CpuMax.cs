using Kscope.Formats.Procfs;

namespace Kscope.Formats.Cgroups;

/// <summary>
/// cgroup v2 <c>cpu.max</c>: <c>$MAX $PERIOD</c>, MAX being "max" or microseconds
/// (Documentation/admin-guide/cgroup-v2.rst). Also built from v1 cpu.cfs_quota_us (-1 = none) and
/// cpu.cfs_period_us.
/// </summary>
public sealed record CpuMax(ulong? QuotaMicroseconds, ulong PeriodMicroseconds)
{
    private const string Format = "cgroup cpu.max";

    /// <summary>The quota in CPUs (0.2 = a fifth of one CPU), null when unlimited.</summary>
    public double? Cpus => QuotaMicroseconds is ulong q ? (double)q / PeriodMicroseconds : null;

    public static CpuMax Parse(string text, string source = "cpu.max")
    {
        string content = SingleLine(Format, text, source);
        string[] f = TextParsing.Fields(content);
        if (f.Length is < 1 or > 2)
        {
            throw new MalformedDataException(Format, source, 1, $"expected '$MAX $PERIOD', got '{TextParsing.Clip(content)}'");
        }
        ulong? quota = f[0] == "max" ? null : TextParsing.U64(Format, source, 1, f[0], "max");
        ulong period = f.Length == 2 ? TextParsing.U64(Format, source, 1, f[1], "period") : 100_000;
        if (period == 0)
        {
            throw new MalformedDataException(Format, source, 1, "period is 0");
        }
        return new CpuMax(quota, period);
    }

    /// <summary>v1: cpu.cfs_quota_us (microseconds, -1 = unlimited) and cpu.cfs_period_us.</summary>
    public static CpuMax FromV1(string quotaText, string periodText, string quotaSource = "cpu.cfs_quota_us", string periodSource = "cpu.cfs_period_us")
    {
        const string V1 = "cgroup cpu.cfs";
        long quota = TextParsing.I64(V1, quotaSource, 1, SingleLine(V1, quotaText, quotaSource), "quota");
        ulong period = TextParsing.U64(V1, periodSource, 1, SingleLine(V1, periodText, periodSource), "period");
        if (quota < -1 || quota == 0)
        {
            throw new MalformedDataException(V1, quotaSource, 1, $"quota {quota} is neither -1 nor positive");
        }
        if (period == 0)
        {
            throw new MalformedDataException(V1, periodSource, 1, "period is 0");
        }
        return new CpuMax(quota < 0 ? null : (ulong)quota, period);
    }

    internal static string SingleLine(string format, string text, string source)
    {
        string content = text.EndsWith('\n') ? text[..^1] : text;
        if (content.Length == 0)
        {
            throw new MalformedDataException(format, source, 1, "empty");
        }
        if (content.Contains('\n'))
        {
            throw new MalformedDataException(format, source, 2, "expected a single line");
        }
        return content;
    }
}
