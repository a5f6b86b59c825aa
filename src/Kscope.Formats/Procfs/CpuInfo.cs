namespace Kscope.Formats.Procfs;

/// <summary>/proc/cpuinfo: blocks of <c>key\t: value</c> lines, one block per CPU.</summary>
public static class CpuInfo
{
    private const string Format = "proc cpuinfo";

    /// <summary>The feature flags of the first CPU ("flags" on x86, "Features" on arm64).</summary>
    public static IReadOnlySet<string> Flags(string text, string source = "/proc/cpuinfo")
    {
        foreach (var (line, content) in TextParsing.Lines(text))
        {
            if (content.Length == 0)
            {
                continue;
            }
            int colon = content.IndexOf(':');
            if (colon < 0)
            {
                throw new MalformedDataException(Format, source, line, $"expected 'key : value', got '{TextParsing.Clip(content)}'");
            }
            string key = content[..colon].Trim();
            if (key is "flags" or "Features")
            {
                return new HashSet<string>(TextParsing.Fields(content[(colon + 1)..]), StringComparer.Ordinal);
            }
        }
        return new HashSet<string>();
    }
}
