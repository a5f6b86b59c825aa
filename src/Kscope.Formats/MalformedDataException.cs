namespace Kscope.Formats;

/// <summary>
/// Outside bytes or text that do not follow their format. Always names where: a byte offset for
/// binary formats, a line (and column) for text. Parsers throw this (or a subclass), never
/// IndexOutOfRange, overflow or stack overflow.
/// </summary>
public class MalformedDataException : FormatException
{
    public MalformedDataException(string format, long offset, string message)
        : base($"{format}: at offset {offset} (0x{offset:x}): {message}")
    {
        FormatName = format;
        Offset = offset;
        Detail = message;
    }

    public MalformedDataException(string format, string source, int line, string message)
        : base($"{format}: {source}:{line}: {message}")
    {
        FormatName = format;
        Offset = -1;
        Line = line;
        Source = source;
        Detail = message;
    }

    /// <summary>What is wrong, without the format and position prefix.</summary>
    public string Detail { get; }

    /// <summary>"BTF", "ELF", "pprof", "cgroup cpu.max"…</summary>
    public string FormatName { get; }

    /// <summary>Byte offset of the problem, or -1 for text formats.</summary>
    public long Offset { get; }

    /// <summary>1-based line for text formats, else 0.</summary>
    public int Line { get; }

    public new string? Source { get; }
}
