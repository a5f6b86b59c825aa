using System.Runtime.InteropServices;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Kscope.Diagnostics.Trace.Gadgets.Syscalls;

namespace Kscope.Diagnostics.Trace;

/// <summary>
/// The hot path of `trace syscalls --slow 0` (every syscall streamed): a slow_syscall_event formatted
/// straight from its mirror <see cref="SlowSyscallEvent"/> (checked against the object's BTF) into the pending output, with no record, field list, boxed value or cell
/// string per event. The output is the same, byte for byte, as <see cref="Write"/> of the decoded
/// <see cref="SlowSyscallRecord"/> (tests compare both on varied records).
/// </summary>
public sealed partial class TraceWriter
{
    private static readonly JsonEncodedText s_schemaKey = JsonEncodedText.Encode("schema"), s_schema = JsonEncodedText.Encode(Schema),
        s_type = JsonEncodedText.Encode("type"), s_gadget = JsonEncodedText.Encode("gadget"),
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
        if (record.Length < System.Runtime.CompilerServices.Unsafe.SizeOf<SlowSyscallEvent>())
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
        if (!_headerDone || !IsSyscallColumns(columns) || Width != int.MaxValue)
        {
            return false; // a terminal (rows wrap to its width) is read by a person, not at 100k lines/s
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

    private unsafe void AppendSyscallRow(ReadOnlySpan<byte> r)
    {
        SlowSyscallEvent e = MemoryMarshal.Read<SlowSyscallEvent>(r);
        Span<char> line = _line;
        Span<char> cell = stackalloc char[64];
        int n = 0;
        long result = e.Ret;
        _layout.Append(line, ref n, 0, cell[..Format(e.H.Tgid, cell)]);
        _layout.Append(line, ref n, 1, cell[..Format(e.H.Tid, cell)]);
        _layout.Append(line, ref n, 2, cell[..Comm(new ReadOnlySpan<byte>(e.H.Comm, 16), cell)]);
        _layout.Append(line, ref n, 3, SyscallNames.Name(e.Id));
        _layout.Append(line, ref n, 4, cell[..Durations.Format(e.LatencyNs, cell)]);
        result.TryFormat(cell, out int written, default, CultureInfo.InvariantCulture);
        _layout.Append(line, ref n, 5, cell[..written]);
        _layout.Append(line, ref n, 6, result is < 0 and > -4096 ? Errors.Name(-result) : "-");
        for (int i = 0; i < 6; i++)
        {
            if (i > 0)
            {
                line[n++] = ' ';
            }
            line[n++] = '0';
            line[n++] = 'x';
            e.Args[i].TryFormat(line[n..], out written, "x", CultureInfo.InvariantCulture);
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

    private unsafe void AppendSyscallJson(ReadOnlySpan<byte> r)
    {
        SlowSyscallEvent e = MemoryMarshal.Read<SlowSyscallEvent>(r);
        Utf8JsonWriter json = ResetJson();
        Span<char> text = stackalloc char[32];
        long id = e.Id;
        long result = e.Ret;
        json.WriteStartObject();
        json.WriteString(s_schemaKey, s_schema);
        json.WriteString(s_type, s_event);
        json.WriteString(s_gadget, _gadget);
        json.WriteNumber(s_timeNs, e.H.TsNs);
        json.WriteNumber(s_pid, e.H.Tgid);
        json.WriteNumber(s_tid, e.H.Tid);
        json.WriteNumber(s_nsPid, e.H.NsTgid);
        json.WriteNumber(s_uid, e.H.Uid);
        json.WriteString(s_comm, text[..Comm(new ReadOnlySpan<byte>(e.H.Comm, 16), text)]);
        json.WriteNumber(s_cgroupId, e.H.CgroupId);
        json.WriteString(s_syscall, SyscallNames.Name(id));
        json.WriteNumber(s_nr, id);
        json.WriteNumber(s_latencyNs, e.LatencyNs);
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
            e.Args[i].TryFormat(text[2..], out int written, "x", CultureInfo.InvariantCulture);
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
