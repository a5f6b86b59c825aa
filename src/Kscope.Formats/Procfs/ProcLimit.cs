namespace Kscope.Formats.Procfs;

/// <summary>
/// One row of /proc/PID/limits (fs/proc/base.c proc_pid_limits): a fixed-width table
/// <c>Limit(25) Soft Limit(20) Hard Limit(20) Units</c>. "unlimited" is RLIM_INFINITY
/// (<see cref="Unlimited"/>).
/// </summary>
public sealed record ProcLimit(string Name, ulong Soft, ulong Hard, string Units)
{
    public const ulong Unlimited = ulong.MaxValue;
    private const string Format = "proc limits";

    public static IReadOnlyList<ProcLimit> Parse(string text, string source = "/proc/self/limits")
    {
        var limits = new List<ProcLimit>();
        foreach (var (line, content) in TextParsing.Lines(text))
        {
            if (line == 1)
            {
                if (!content.StartsWith("Limit", StringComparison.Ordinal))
                {
                    throw new MalformedDataException(Format, source, line, "missing the 'Limit  Soft Limit  Hard Limit  Units' header");
                }
                continue;
            }
            if (content.Length < 26)
            {
                throw new MalformedDataException(Format, source, line, $"row shorter than the 26-character name column: '{TextParsing.Clip(content)}'");
            }
            string name = content[..26].Trim();
            string[] rest = TextParsing.Fields(content[26..]);
            if (name.Length == 0 || rest.Length is < 2 or > 3)
            {
                throw new MalformedDataException(Format, source, line, $"expected 'name soft hard [units]', got '{TextParsing.Clip(content)}'");
            }
            limits.Add(new ProcLimit(name, Value(rest[0], "soft limit"), Value(rest[1], "hard limit"), rest.Length == 3 ? rest[2] : ""));

            ulong Value(string v, string what) => v == "unlimited" ? Unlimited : TextParsing.U64(Format, source, line, v, what);
        }
        if (limits.Count == 0)
        {
            throw new MalformedDataException(Format, source, 1, "no limits");
        }
        return limits;
    }
}
