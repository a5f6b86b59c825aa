using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Kscope.Diagnostics.Trace.Records;

namespace Kscope.Diagnostics.Trace;

/// <summary>
/// The hot path of `trace syscalls --slow 0` (every syscall streamed): a slow_syscall_event formatted
/// straight from its bytes into the pending output, with no record, field list, boxed value or cell
/// string per event. The output is the same, byte for byte, as <see cref="Write"/> of the decoded
/// <see cref="SlowSyscallRecord"/> (tests compare both on varied records).
/// </summary>
public sealed partial class TraceWriter
{
    private static readonly JsonEncodedText s_type = JsonEncodedText.Encode("type"), s_gadget = JsonEncodedText.Encode("gadget"),
        s_event = JsonEncodedText.Encode("event"), s_timeNs = JsonEncodedText.Encode("time_ns"), s_pid = JsonEncodedText.Encode("pid"),
        s_tid = JsonEncodedText.Encode("tid"), s_nsPid = JsonEncodedText.Encode("ns_pid"), s_uid = JsonEncodedText.Encode("uid"),
        s_comm = JsonEncodedText.Encode("comm"), s_cgroupId = JsonEncodedText.Encode("cgroup_id"), s_syscall = JsonEncodedText.Encode("syscall"),
        s_nr = JsonEncodedText.Encode("nr"), s_latencyNs = JsonEncodedText.Encode("latency_ns"), s_result = JsonEncodedText.Encode("result"),
        s_error = JsonEncodedText.Encode("error"), s_args = JsonEncodedText.Encode("args");

    private static readonly string[] s_syscallColumns = ["pid", "tid", "comm", "syscall", "latency_ns", "result", "error", "args"];

    private readonly char[] _line = new char[512];
    private char[] _jsonChars = new char[1024];
    private IReadOnlyList<string>? _fastColumns;

    /// <summary>
    /// Writes a syscalls record (<see cref="SlowSyscallRecord"/>) without decoding it into objects; false
    /// (nothing written) when the fast path does not apply: a short record, other columns, or a table
    /// header still to print, which the caller then writes through <see cref="Write"/>.
    /// </summary>
    public bool TryWriteSyscallEvent(ReadOnlySpan<byte> record, IReadOnlyList<string> columns)
    {
        if (record.Length < SlowSyscallRecord.Size)
        {
            return false;
        }
        if (!ReferenceEquals(columns, _current))
        {
            return false; // Write switches tables and prints the header
        }
        if (Json)
        {
            AppendSyscallJson(record);
            return true;
        }
        if (!_headerDone || !IsSyscallColumns(columns))
        {
            return false;
        }
        AppendSyscallRow(record);
        return true;
    }

    private bool IsSyscallColumns(IReadOnlyList<string> columns)
    {
        if (ReferenceEquals(columns, _fastColumns))
        {
            return true;
        }
        if (columns.Count != s_syscallColumns.Length)
        {
            return false;
        }
        for (int i = 0; i < columns.Count; i++)
        {
            if (!string.Equals(columns[i], s_syscallColumns[i], StringComparison.Ordinal))
            {
                return false;
            }
        }
        _fastColumns = columns;
        return true;
    }

    private void AppendSyscallRow(ReadOnlySpan<byte> r)
    {
        Span<char> line = _line;
        Span<char> cell = stackalloc char[64];
        int n = 0;
        long result = BinaryPrimitives.ReadInt64LittleEndian(r[56..]);
        Cell(line, ref n, cell[..Format(BinaryPrimitives.ReadUInt32LittleEndian(r[16..]), cell)], 7);
        Cell(line, ref n, cell[..Format(BinaryPrimitives.ReadUInt32LittleEndian(r[20..]), cell)], 7);
        Cell(line, ref n, cell[..Comm(r.Slice(32, 16), cell)], 16);
        Cell(line, ref n, SyscallNames.Name(BinaryPrimitives.ReadInt64LittleEndian(r[48..])), 20);
        Cell(line, ref n, cell[..Durations.Format(BinaryPrimitives.ReadUInt64LittleEndian(r[64..]), cell)], 9);
        result.TryFormat(cell, out int written, default, CultureInfo.InvariantCulture);
        Cell(line, ref n, cell[..written], 7);
        Cell(line, ref n, result is < 0 and > -4096 ? Errors.Name(-result) : "-", 8);
        for (int i = 0; i < 6; i++)
        {
            if (i > 0)
            {
                line[n++] = ' ';
            }
            line[n++] = '0';
            line[n++] = 'x';
            BinaryPrimitives.ReadUInt64LittleEndian(r[(72 + 8 * i)..]).TryFormat(line[n..], out written, "x", CultureInfo.InvariantCulture);
            n += written;
        }
        while (n > 0 && line[n - 1] == ' ')
        {
            n--;
        }
        line[n++] = '\n';
        _pending.Append(line[..n]);
        if (_pending.Length >= FlushThreshold)
        {
            Flush();
        }
    }

    /// <summary>A padded (or cut with '…') cell followed by the column separator, as <see cref="AppendRow"/> writes it.</summary>
    private static void Cell(Span<char> line, ref int n, ReadOnlySpan<char> cell, int width)
    {
        if (cell.Length > width)
        {
            cell[..(width - 1)].CopyTo(line[n..]);
            n += width - 1;
            line[n++] = '…';
        }
        else
        {
            cell.CopyTo(line[n..]);
            n += cell.Length;
            line.Slice(n, width - cell.Length).Fill(' ');
            n += width - cell.Length;
        }
        line[n++] = ' ';
    }

    private static int Format(uint value, Span<char> into)
    {
        value.TryFormat(into, out int written, default, CultureInfo.InvariantCulture);
        return written;
    }

    /// <summary>The comm as <see cref="EventHeader.CString"/> decodes it (UTF-8 up to the first NUL).</summary>
    private static int Comm(ReadOnlySpan<byte> bytes, Span<char> into)
    {
        int end = bytes.IndexOf((byte)0);
        return Encoding.UTF8.GetChars(end < 0 ? bytes : bytes[..end], into);
    }

    private void AppendSyscallJson(ReadOnlySpan<byte> r)
    {
        Utf8JsonWriter json = ResetJson();
        Span<char> text = stackalloc char[32];
        long id = BinaryPrimitives.ReadInt64LittleEndian(r[48..]);
        long result = BinaryPrimitives.ReadInt64LittleEndian(r[56..]);
        json.WriteStartObject();
        json.WriteString(s_type, s_event);
        json.WriteString(s_gadget, _gadget);
        json.WriteNumber(s_timeNs, BinaryPrimitives.ReadUInt64LittleEndian(r));
        json.WriteNumber(s_pid, BinaryPrimitives.ReadUInt32LittleEndian(r[16..]));
        json.WriteNumber(s_tid, BinaryPrimitives.ReadUInt32LittleEndian(r[20..]));
        json.WriteNumber(s_nsPid, BinaryPrimitives.ReadUInt32LittleEndian(r[28..]));
        json.WriteNumber(s_uid, BinaryPrimitives.ReadUInt32LittleEndian(r[24..]));
        json.WriteString(s_comm, text[..Comm(r.Slice(32, 16), text)]);
        json.WriteNumber(s_cgroupId, BinaryPrimitives.ReadUInt64LittleEndian(r[8..]));
        json.WriteString(s_syscall, SyscallNames.Name(id));
        json.WriteNumber(s_nr, id);
        json.WriteNumber(s_latencyNs, BinaryPrimitives.ReadUInt64LittleEndian(r[64..]));
        json.WriteNumber(s_result, result);
        if (result is < 0 and > -4096)
        {
            json.WriteString(s_error, Errors.Name(-result));
        }
        else
        {
            json.WriteNull(s_error);
        }
        json.WriteStartArray(s_args);
        text[0] = '0';
        text[1] = 'x';
        for (int i = 0; i < 6; i++)
        {
            BinaryPrimitives.ReadUInt64LittleEndian(r[(72 + 8 * i)..]).TryFormat(text[2..], out int written, "x", CultureInfo.InvariantCulture);
            json.WriteStringValue(text[..(2 + written)]);
        }
        json.WriteEndArray();
        json.WriteEndObject();
        json.Flush();
        AppendJsonBuffer();
    }

    private Utf8JsonWriter ResetJson()
    {
        _jsonBuffer.ResetWrittenCount();
        if (_json is null)
        {
            _json = new Utf8JsonWriter(_jsonBuffer);
        }
        else
        {
            _json.Reset(_jsonBuffer);
        }
        return _json;
    }

    /// <summary>The JSON line just written to the buffer, appended as chars without an intermediate string.</summary>
    private void AppendJsonBuffer()
    {
        ReadOnlySpan<byte> bytes = _jsonBuffer.WrittenSpan;
        if (_jsonChars.Length < bytes.Length + 1)
        {
            _jsonChars = new char[bytes.Length * 2];
        }
        int n = Encoding.UTF8.GetChars(bytes, _jsonChars);
        _jsonChars[n++] = '\n';
        _pending.Append(_jsonChars, 0, n);
        if (_pending.Length >= FlushThreshold)
        {
            Flush();
        }
    }
}
