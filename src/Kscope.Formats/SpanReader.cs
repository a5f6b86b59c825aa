using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;

namespace Kscope.Formats;

/// <summary>
/// Reads a binary format by re-slicing a span: one bounds check per take, errors carry the absolute
/// offset and the format's name. Little- or big-endian as the format says.
/// </summary>
public ref struct SpanReader
{
    private readonly ReadOnlySpan<byte> _whole;
    private readonly string _format;
    private readonly long _base;
    private int _position;

    public SpanReader(ReadOnlySpan<byte> data, string format, bool bigEndian = false, long baseOffset = 0)
    {
        _whole = data;
        _format = format;
        _base = baseOffset;
        _position = 0;
        BigEndian = bigEndian;
    }

    public bool BigEndian { get; }

    /// <summary>Position relative to the start of this reader's span.</summary>
    public int Position
    {
        readonly get => _position;
        set
        {
            if ((uint)value > (uint)_whole.Length)
            {
                throw Error(value, $"seek to {value} beyond the end ({_whole.Length} bytes)");
            }
            _position = value;
        }
    }

    /// <summary>Offset in the whole input (base + position), as reported in errors.</summary>
    public readonly long AbsoluteOffset => _base + _position;

    public readonly int Remaining => _whole.Length - _position;

    public readonly bool End => _position >= _whole.Length;

    public readonly int Length => _whole.Length;

    public ReadOnlySpan<byte> Take(int count)
    {
        if ((uint)count > (uint)(_whole.Length - _position))
        {
            ThrowTruncated(count);
        }
        ReadOnlySpan<byte> result = _whole.Slice(_position, count);
        _position += count;
        return result;
    }

    /// <summary>A reader over the next <paramref name="count"/> bytes; errors keep absolute offsets.</summary>
    public SpanReader Sub(int count)
    {
        long start = AbsoluteOffset;
        return new SpanReader(Take(count), _format, BigEndian, start);
    }

    /// <summary>A reader over [offset, offset+count) of this reader's span, without moving.</summary>
    public readonly SpanReader Slice(int offset, int count)
    {
        if ((uint)offset > (uint)_whole.Length || (uint)count > (uint)(_whole.Length - offset))
        {
            throw Error(offset, $"range [{offset}, +{count}) outside the {_whole.Length}-byte input");
        }
        return new SpanReader(_whole.Slice(offset, count), _format, BigEndian, _base + offset);
    }

    public void Skip(int count) => Take(count);

    public byte U8() => Take(1)[0];

    public ushort U16() { ReadOnlySpan<byte> s = Take(2); return BigEndian ? BinaryPrimitives.ReadUInt16BigEndian(s) : BinaryPrimitives.ReadUInt16LittleEndian(s); }

    public uint U32() { ReadOnlySpan<byte> s = Take(4); return BigEndian ? BinaryPrimitives.ReadUInt32BigEndian(s) : BinaryPrimitives.ReadUInt32LittleEndian(s); }

    public ulong U64() { ReadOnlySpan<byte> s = Take(8); return BigEndian ? BinaryPrimitives.ReadUInt64BigEndian(s) : BinaryPrimitives.ReadUInt64LittleEndian(s); }

    public short I16() => (short)U16();

    public int I32() => (int)U32();

    public long I64() => (long)U64();

    /// <summary>Unsigned LEB128 (protobuf varints, DWARF), at most 10 bytes.</summary>
    public ulong ULeb128()
    {
        ulong result = 0;
        for (int shift = 0; shift < 70; shift += 7)
        {
            byte b = U8();
            result |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0)
            {
                return result;
            }
        }
        throw Error(_position, "varint longer than 10 bytes");
    }

    /// <summary>A NUL-terminated UTF-8 string starting at <paramref name="offset"/> of this span (string tables).</summary>
    public readonly string CString(int offset)
    {
        if ((uint)offset >= (uint)_whole.Length)
        {
            throw Error(offset, $"string offset {offset} outside the {_whole.Length}-byte table");
        }
        ReadOnlySpan<byte> rest = _whole[offset..];
        int nul = rest.IndexOf((byte)0);
        if (nul < 0)
        {
            throw Error(offset, "string not NUL-terminated");
        }
        return Encoding.UTF8.GetString(rest[..nul]);
    }

    public readonly MalformedDataException Error(long position, string message) =>
        new(_format, _base + position, message);

    public readonly MalformedDataException Error(string message) => Error(_position, message);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private readonly void ThrowTruncated(int count) =>
        throw Error(_position, count < 0 ? $"negative length {count}" : $"truncated: need {count} bytes, {_whole.Length - _position} left");
}
