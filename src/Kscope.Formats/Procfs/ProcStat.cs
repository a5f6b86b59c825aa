namespace Kscope.Formats.Procfs;

/// <summary>
/// /proc/PID/stat: <c>pid (comm) state ppid …</c> (fs/proc/array.c, proc(5)). comm may contain spaces
/// and parentheses, so it runs to the LAST ')'. Fields after state are numbers (some negative).
/// </summary>
public sealed record ProcStat(int Pid, string Comm, char State, IReadOnlyList<long> Numbers)
{
    private const string Format = "proc stat";

    /// <summary>proc(5) field number (1-based: 1 pid, 2 comm, 3 state, 4 ppid …); null when the kernel did not print it.</summary>
    public long? Field(int number) => number >= 4 && number - 4 < Numbers.Count ? Numbers[number - 4] : null;

    public int PPid => (int)(Field(4) ?? 0);

    /// <summary>User time in clock ticks (field 14).</summary>
    public ulong UTime => (ulong)(Field(14) ?? 0);

    public ulong STime => (ulong)(Field(15) ?? 0);

    public int NumThreads => (int)(Field(20) ?? 0);

    /// <summary>Start time after boot in clock ticks (field 22).</summary>
    public ulong StartTime => (ulong)(Field(22) ?? 0);

    /// <summary>CPU last run on (field 39).</summary>
    public int? Processor => Field(39) is long p ? (int)p : null;

    public static ProcStat Parse(string text, string source = "/proc/self/stat")
    {
        string line = text.TrimEnd('\n');
        if (line.Contains('\n'))
        {
            throw new MalformedDataException(Format, source, 2, "more than one line");
        }
        int open = line.IndexOf('(');
        int close = line.LastIndexOf(')');
        if (open <= 0 || close < open)
        {
            throw new MalformedDataException(Format, source, 1, "expected 'pid (comm) state …'");
        }
        int pid = TextParsing.I32(Format, source, 1, line[..open].Trim(), "pid");
        string comm = line[(open + 1)..close];
        string[] rest = TextParsing.Fields(line[(close + 1)..]);
        if (rest.Length < 2 || rest[0].Length != 1)
        {
            throw new MalformedDataException(Format, source, 1, "missing state and ppid after comm");
        }
        var numbers = new long[rest.Length - 1];
        for (int i = 1; i < rest.Length; i++)
        {
            // Unsigned fields (e.g. rsslim = RLIM_INFINITY) exceed long: keep their bit pattern.
            numbers[i - 1] = rest[i].StartsWith('-')
                ? TextParsing.I64(Format, source, 1, rest[i], $"field {i + 3}")
                : (long)TextParsing.U64(Format, source, 1, rest[i], $"field {i + 3}");
        }
        return new ProcStat(pid, comm, rest[0][0], numbers);
    }
}
