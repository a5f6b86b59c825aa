using System.Text;

namespace Kscope.Formats.Pprof;

/// <summary>A minimal protobuf encoder into a growable buffer (varints, packed ints, nested messages).</summary>
internal sealed class ProtoWriter
{
    private byte[] _buffer = new byte[4096];
    private int _length;

    public int Length => _length;

    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _length);

    public void Clear() => _length = 0;

    public void Varint(ulong value)
    {
        Ensure(10);
        while (value >= 0x80)
        {
            _buffer[_length++] = (byte)(value | 0x80);
            value >>= 7;
        }
        _buffer[_length++] = (byte)value;
    }

    public void Key(int field, int wire) => Varint(((ulong)field << 3) | (uint)wire);

    /// <summary>An integer field, omitted when zero (proto3 default).</summary>
    public void Int(int field, long value)
    {
        if (value != 0)
        {
            Key(field, 0);
            Varint((ulong)value);
        }
    }

    public void Bool(int field, bool value) => Int(field, value ? 1 : 0);

    public void Bytes(int field, ReadOnlySpan<byte> bytes)
    {
        Key(field, 2);
        Varint((ulong)bytes.Length);
        Ensure(bytes.Length);
        bytes.CopyTo(_buffer.AsSpan(_length));
        _length += bytes.Length;
    }

    public void String(int field, string value)
    {
        int max = Encoding.UTF8.GetMaxByteCount(value.Length);
        Key(field, 2);
        int count = Encoding.UTF8.GetByteCount(value);
        Varint((ulong)count);
        Ensure(Math.Min(max, count));
        _length += Encoding.UTF8.GetBytes(value, _buffer.AsSpan(_length));
    }

    /// <summary>Packed repeated varints, omitted when empty.</summary>
    public void Packed(int field, ReadOnlySpan<long> values, ProtoWriter scratch)
    {
        if (values.IsEmpty)
        {
            return;
        }
        scratch.Clear();
        foreach (long v in values)
        {
            scratch.Varint((ulong)v);
        }
        Bytes(field, scratch.Written);
    }

    public void Packed(int field, ReadOnlySpan<ulong> values, ProtoWriter scratch)
    {
        if (values.IsEmpty)
        {
            return;
        }
        scratch.Clear();
        foreach (ulong v in values)
        {
            scratch.Varint(v);
        }
        Bytes(field, scratch.Written);
    }

    private void Ensure(int more)
    {
        if (_length + more > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + more));
        }
    }
}
