using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Kscope.Diagnostics.Trace;

/// <summary>
/// Writes records as aligned columns (header once, widths per field name, widened when a longer value comes,
/// never cut: <see cref="Output.TextTable.Columns"/>) or as JSON lines
/// (Utf8JsonWriter, no reflection: docs/trace.md has the schema of each gadget).
/// </summary>
public sealed partial class TraceWriter
{
    private static readonly Dictionary<string, int> s_widths = new(StringComparer.Ordinal)
    {
        ["pid"] = 7, ["tid"] = 7, ["ppid"] = 7, ["ns_pid"] = 7, ["uid"] = 6, ["comm"] = 16, ["result"] = 7, ["fd"] = 5, ["error"] = 8,
        ["latency_ns"] = 9, ["flags"] = 24, ["syscall"] = 20, ["count"] = 9, ["errors"] = 7, ["avg_ns"] = 9, ["p99_ns"] = 9, ["max_ns"] = 9,
        ["total_ns"] = 10, ["waits"] = 8, ["max_waiters"] = 11, ["address"] = 18, ["event"] = 10, ["saddr"] = 15, ["daddr"] = 15,
        ["sport"] = 6, ["dport"] = 6, ["new_state"] = 12, ["signal"] = 9, ["target_tid"] = 10, ["target_comm"] = 16,
        ["victim_pid"] = 10, ["victim_comm"] = 16, ["anon_rss_kb"] = 11, ["file_rss_kb"] = 11, ["cgroup_id"] = 10, ["waker_comm"] = 16,
        ["periods"] = 8, ["throttled"] = 9, ["throttled_pct"] = 13, ["throttled_ms"] = 12, ["wait_ns"] = 9, ["cpu"] = 4, ["prev_comm"] = 16,
    };

    private const int FlushThreshold = 64 * 1024;

    /// <summary>The schema of every <c>trace --json</c> line, first member of each (docs/json.md, fields in docs/trace.md).</summary>
    public const string Schema = "kscope.trace/v1";

    private readonly TextWriter _out;
    private readonly StringBuilder _pending = new();
    private readonly string _gadget;
    private readonly IReadOnlyList<string> _columns;
    private bool _headerDone;

    private IReadOnlyList<string> _current;

    public TraceWriter(TextWriter output, string gadget, bool json, IReadOnlyList<string> columns)
    {
        (_out, _gadget, Json, _columns) = (output, gadget, json, columns);
        _current = columns;
    }

    public bool Json { get; }

    /// <summary>The terminal's width: a row's last cell wraps under itself past it (no limit when not a terminal).</summary>
    public int Width { get; init; } = int.MaxValue;

    /// <summary>Writes one record: a JSON line {"type":…,"gadget":…, fields…} or a row of the chosen columns.</summary>
    public void Write(ITraceRecord record, string type = "event", IReadOnlyList<string>? columns = null)
    {
        columns ??= _columns;
        if (!ReferenceEquals(columns, _current))
        {
            (_current, _headerDone) = (columns, false);
        }
        IReadOnlyList<TraceField> fields = record.Fields();
        if (Json)
        {
            AppendJson(type, fields);
            return;
        }
        if (!_headerDone)
        {
            _layout = new Output.TextTable.Columns(columns.Take(columns.Count - 1).Select(c => s_widths.GetValueOrDefault(c, 10)));
            Append(Row(columns.Select(c => (c.EndsWith("_ns", StringComparison.Ordinal) ? c[..^3] : c).ToUpperInvariant()).ToArray()));
            _headerDone = true;
            _fieldIndex = new int[columns.Count];
        }
        AppendRow(columns, fields);
    }

    // Per-event formatting is the reader's hot path (every record of a busy trace): no LINQ, no
    // intermediate row string, one reused JSON writer, and the field of each column found by the
    // index it had in the previous record (records of one gadget list their fields in a fixed order).
    private int[] _fieldIndex = [];
    private Output.TextTable.Columns _layout = new([]);
    private readonly ArrayBufferWriter<byte> _jsonBuffer = new(1024);
    private Utf8JsonWriter? _json;

    private void AppendRow(IReadOnlyList<string> columns, IReadOnlyList<TraceField> fields)
    {
        int start = _pending.Length;
        for (int i = 0; i < columns.Count; i++)
        {
            string column = columns[i];
            int index = _fieldIndex[i];
            if ((uint)index >= (uint)fields.Count || !string.Equals(fields[index].Name, column, StringComparison.Ordinal))
            {
                index = -1;
                for (int j = 0; j < fields.Count; j++)
                {
                    if (string.Equals(fields[j].Name, column, StringComparison.Ordinal))
                    {
                        index = j;
                        break;
                    }
                }
                _fieldIndex[i] = index;
            }
            string cell = Cell(column, index < 0 ? null : fields[index].Value);
            if (i == columns.Count - 1)
            {
                int prefix = _pending.Length - start;
                if (prefix + cell.Length > Width)
                {
                    string head = _pending.ToString(start, prefix);
                    _pending.Length = start;
                    _pending.AppendJoin('\n', Output.TextTable.Wrap(head, cell, Width));
                }
                else
                {
                    _pending.Append(cell);
                }
                break;
            }
            _layout.Append(_pending, i, cell);
        }
        int end = _pending.Length;
        while (end > 0 && _pending[end - 1] == ' ')
        {
            end--;
        }
        _pending.Length = end;
        Append("");
    }

    private void AppendJson(string type, IReadOnlyList<TraceField> fields)
    {
        Utf8JsonWriter json = ResetJson();
        json.WriteStartObject();
        json.WriteString(s_schemaKey, s_schema);
        json.WriteString("type", type);
        json.WriteString("gadget", _gadget);
        for (int i = 0; i < fields.Count; i++)
        {
            WriteValue(json, fields[i].Name, fields[i].Value);
        }
        json.WriteEndObject();
        json.Flush();
        AppendJsonBuffer();
    }

    /// <summary>A free-form block (histograms, summaries) in column mode; nothing in JSON mode.</summary>
    public void Text(string text)
    {
        if (!Json)
        {
            _pending.Append(text);
        }
    }

    /// <summary>
    /// Writes what is pending in one write (a line per write syscall caps a busy trace at some 30k
    /// lines/s). The session flushes whenever the ring buffer is drained, so output is not delayed.
    /// </summary>
    public void Flush()
    {
        if (_pending.Length > 0)
        {
            foreach (ReadOnlyMemory<char> chunk in _pending.GetChunks())
            {
                _out.Write(chunk.Span); // no string of the whole batch
            }
            _pending.Clear();
        }
        _out.Flush();
    }

    private void Append(string line)
    {
        _pending.Append(line).Append('\n');
        if (_pending.Length >= FlushThreshold)
        {
            Flush();
        }
    }

    /// <summary>Starts a new table (the header is written again before the next row).</summary>
    public void NewTable() => _headerDone = false;

    private string Row(string[] cells)
    {
        var line = new StringBuilder();
        for (int i = 0; i < cells.Length; i++)
        {
            if (i == cells.Length - 1)
            {
                line.Append(cells[i]);
            }
            else
            {
                _layout.Append(line, i, cells[i]);
            }
        }
        return line.ToString().TrimEnd();
    }

    private static string Cell(string column, object? value) =>
        column.EndsWith("_ns", StringComparison.Ordinal) && value is ulong ns ? Durations.Format(ns) : Text(value);

    public static string Text(object? value) => value switch
    {
        null => "-",
        string s => s,
        string[] a => JoinArgs(a),
        ulong[] u => string.Join(',', u),
        bool b => b ? "yes" : "no",
        double d => d.ToString("0.0", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    private static string JoinArgs(string[] args)
    {
        var text = new StringBuilder();
        foreach (string x in args)
        {
            if (text.Length > 0)
            {
                text.Append(' ');
            }
            if (x.Contains(' ', StringComparison.Ordinal))
            {
                text.Append('\'').Append(x).Append('\'');
            }
            else
            {
                text.Append(x);
            }
        }
        return text.ToString();
    }

    /// <summary>One JSON object on one line.</summary>
    public static string JsonLine(string type, string gadget, IEnumerable<TraceField> fields)
    {
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString(s_schemaKey, s_schema);
            json.WriteString("type", type);
            json.WriteString("gadget", gadget);
            foreach (TraceField f in fields)
            {
                WriteValue(json, f.Name, f.Value);
            }
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    public static void WriteValue(Utf8JsonWriter json, string name, object? value)
    {
        switch (value)
        {
            case null: json.WriteNull(name); break;
            case string s: json.WriteString(name, s); break;
            case bool b: json.WriteBoolean(name, b); break;
            case long l: json.WriteNumber(name, l); break;
            case int i: json.WriteNumber(name, i); break;
            case uint u: json.WriteNumber(name, u); break;
            case ulong ul: json.WriteNumber(name, ul); break;
            case double d: json.WriteNumber(name, d); break;
            case string[] a:
                json.WriteStartArray(name);
                foreach (string x in a)
                {
                    json.WriteStringValue(x);
                }
                json.WriteEndArray();
                break;
            case ulong[] ua:
                json.WriteStartArray(name);
                foreach (ulong x in ua)
                {
                    json.WriteNumberValue(x);
                }
                json.WriteEndArray();
                break;
            default: json.WriteString(name, value.ToString()); break;
        }
    }
}
