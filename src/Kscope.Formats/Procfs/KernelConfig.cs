using Kscope.Formats.Compression;

namespace Kscope.Formats.Procfs;

/// <summary>
/// A kernel .config (as /proc/config.gz holds it, decompressed): <c>CONFIG_X=y|m|"string"|123</c>,
/// <c># CONFIG_X is not set</c>, other comments and blank lines. Names are kept without "CONFIG_".
/// </summary>
public sealed class KernelConfig
{
    private const string Format = "kernel config";
    private readonly Dictionary<string, string> _options;

    private KernelConfig(Dictionary<string, string> options) => _options = options;

    public int Count => _options.Count;

    /// <summary>"y", "m", a string or number, "n" when "is not set", null when not mentioned at all.</summary>
    public string? this[string name] => _options.TryGetValue(Strip(name), out string? v) ? v : null;

    /// <summary>Largest config accepted (a gzip bomb guard): Debian's full x86_64 config is about 280 KB.</summary>
    public const int MaxBytes = 16 << 20;

    /// <summary>A config file's bytes, gunzipped first when they are gzip (/proc/config.gz), at most <see cref="MaxBytes"/>.</summary>
    public static KernelConfig Read(ReadOnlySpan<byte> data, string source = "/proc/config.gz")
    {
        if (Gzip.IsGzip(data))
        {
            return Parse(System.Text.Encoding.UTF8.GetString(Gzip.Decompress(data, MaxBytes, Format)), source);
        }
        if (data.Length > MaxBytes)
        {
            throw new MalformedDataException(Format, MaxBytes, $"{source}: larger than {MaxBytes} bytes");
        }
        return Parse(System.Text.Encoding.UTF8.GetString(data), source);
    }

    public static KernelConfig Parse(string text, string source = "/proc/config.gz")
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (line, raw) in TextParsing.Lines(text))
        {
            string content = raw.Trim();
            if (content.Length == 0)
            {
                continue;
            }
            if (content.StartsWith('#'))
            {
                const string NotSet = " is not set";
                if (content.StartsWith("# CONFIG_", StringComparison.Ordinal) && content.EndsWith(NotSet, StringComparison.Ordinal))
                {
                    string name = content[9..^NotSet.Length];
                    if (IsName(name))
                    {
                        options[name] = "n";
                    }
                }
                continue;
            }
            int eq = content.IndexOf('=');
            if (!content.StartsWith("CONFIG_", StringComparison.Ordinal) || eq < 8 || !IsName(content[7..eq]))
            {
                throw new MalformedDataException(Format, source, line, $"expected 'CONFIG_NAME=value', got '{TextParsing.Clip(content)}'");
            }
            string value = content[(eq + 1)..];
            if (value.StartsWith('"') && (value.Length < 2 || !value.EndsWith('"')))
            {
                throw new MalformedDataException(Format, source, line, "unterminated string value");
            }
            options[content[7..eq]] = value.Length >= 2 && value[0] == '"' ? value[1..^1] : value;
        }
        return new KernelConfig(options);
    }

    private static string Strip(string name) => name.StartsWith("CONFIG_", StringComparison.Ordinal) ? name[7..] : name;

    private static bool IsName(string s) => s.Length > 0 && s.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
}
