namespace Kscope.Formats.Procfs;

/// <summary>
/// /proc/PID/status: one <c>Key:\tvalue</c> per line (fs/proc/array.c). Values are kept as text with
/// their line numbers; the typed accessors parse on demand and throw <see cref="MalformedDataException"/>
/// naming the line.
/// </summary>
public sealed class ProcStatus
{
    private const string Format = "proc status";
    private readonly Dictionary<string, (string Value, int Line)> _fields;

    private ProcStatus(Dictionary<string, (string, int)> fields, string source)
    {
        _fields = fields;
        Source = source;
    }

    public string Source { get; }

    public IEnumerable<string> Keys => _fields.Keys;

    public static ProcStatus Parse(string text, string source = "/proc/self/status")
    {
        var fields = new Dictionary<string, (string, int)>(StringComparer.Ordinal);
        foreach (var (line, content) in TextParsing.Lines(text))
        {
            int colon = content.IndexOf(':');
            if (colon <= 0)
            {
                throw new MalformedDataException(Format, source, line, $"expected 'Key: value', got '{TextParsing.Clip(content)}'");
            }
            fields[content[..colon]] = (content[(colon + 1)..].Trim(), line);
        }
        if (fields.Count == 0)
        {
            throw new MalformedDataException(Format, source, 1, "empty");
        }
        return new ProcStatus(fields, source);
    }

    public string? Get(string key) => _fields.TryGetValue(key, out var f) ? f.Value : null;

    public string Name => Require("Name").Value;

    public int Pid => TextParsing.I32(Format, Source, Require("Pid").Line, Require("Pid").Value, "Pid");

    public int PPid => TextParsing.I32(Format, Source, Require("PPid").Line, Require("PPid").Value, "PPid");

    public int Threads => TextParsing.I32(Format, Source, Require("Threads").Line, Require("Threads").Value, "Threads");

    /// <summary>Real, effective, saved, filesystem uid.</summary>
    public IReadOnlyList<uint> Uids => Ids("Uid");

    public IReadOnlyList<uint> Gids => Ids("Gid");

    public ulong CapInh => Hex("CapInh");

    public ulong CapPrm => Hex("CapPrm");

    public ulong CapEff => Hex("CapEff");

    public ulong CapBnd => Hex("CapBnd");

    public ulong CapAmb => Hex("CapAmb");

    /// <summary>0 disabled, 1 strict, 2 filter (SECCOMP_MODE_*); null when the kernel lacks CONFIG_SECCOMP.</summary>
    public int? Seccomp => Optional("Seccomp");

    public int? NoNewPrivs => Optional("NoNewPrivs");

    /// <summary>VmRSS in bytes (the file says kB); null for kernel threads.</summary>
    public ulong? VmRssBytes => Kilobytes("VmRSS");

    public ulong? VmHwmBytes => Kilobytes("VmHWM");

    public string? CpusAllowedList => Get("Cpus_allowed_list");

    public string? MemsAllowedList => Get("Mems_allowed_list");

    private (string Value, int Line) Require(string key) =>
        _fields.TryGetValue(key, out var f) ? f : throw new MalformedDataException(Format, Source, _fields.Count, $"no '{key}' line");

    private ulong Hex(string key)
    {
        var (value, line) = Require(key);
        return TextParsing.Hex64(Format, Source, line, value, key);
    }

    private int? Optional(string key) =>
        _fields.TryGetValue(key, out var f) ? TextParsing.I32(Format, Source, f.Line, f.Value, key) : null;

    private ulong? Kilobytes(string key)
    {
        if (!_fields.TryGetValue(key, out var f))
        {
            return null;
        }
        string[] parts = TextParsing.Fields(f.Value);
        if (parts.Length != 2 || parts[1] != "kB")
        {
            throw new MalformedDataException(Format, Source, f.Line, $"{key}: expected 'N kB', got '{TextParsing.Clip(f.Value)}'");
        }
        ulong kb = TextParsing.U64(Format, Source, f.Line, parts[0], key);
        if (kb > ulong.MaxValue / 1024)
        {
            throw new MalformedDataException(Format, Source, f.Line, $"{key}: {kb} kB overflows");
        }
        return kb * 1024;
    }

    private uint[] Ids(string key)
    {
        var (value, line) = Require(key);
        string[] parts = TextParsing.Fields(value);
        if (parts.Length != 4)
        {
            throw new MalformedDataException(Format, Source, line, $"{key}: expected 4 ids, got {parts.Length}");
        }
        var ids = new uint[4];
        for (int i = 0; i < 4; i++)
        {
            ulong id = TextParsing.U64(Format, Source, line, parts[i], key);
            ids[i] = id <= uint.MaxValue ? (uint)id : throw new MalformedDataException(Format, Source, line, $"{key}: {id} exceeds 32 bits");
        }
        return ids;
    }
}
