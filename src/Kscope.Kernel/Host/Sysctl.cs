namespace Kscope.Kernel.Host;

/// <summary>Kernel tunables under /proc/sys ("kernel.perf_event_paranoid" -> /proc/sys/kernel/perf_event_paranoid).</summary>
public static class Sysctl
{
    public static string PathOf(string name) => "/proc/sys/" + name.Replace('.', '/');

    /// <summary>The value with surrounding whitespace trimmed; null when this kernel has no such sysctl.</summary>
    public static string? Read(string name) => Procfs.TryReadText(PathOf(name))?.Trim();

    /// <summary>An integer sysctl; null when absent or not a single integer.</summary>
    public static long? ReadInt(string name) =>
        Read(name) is string s && long.TryParse(s, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out long v) ? v : null;
}
