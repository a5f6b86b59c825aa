using System.Buffers.Binary;
using System.Text;

namespace Kscope.TestKit;

/// <summary>Writes small hand-made BTF blobs (hostile graphs the compilers never emit).</summary>
public sealed class BtfBuilder
{
    private readonly List<uint> _words = [];
    private readonly MemoryStream _strings = new();
    private int _count;

    public BtfBuilder() => _strings.WriteByte(0);

    public uint Str(string s)
    {
        uint at = (uint)_strings.Length;
        byte[] b = Encoding.UTF8.GetBytes(s);
        _strings.Write(b);
        _strings.WriteByte(0);
        return at;
    }

    /// <summary>Adds a btf_type plus trailing words; returns its id.</summary>
    public int Type(string name, int kind, int vlen, uint sizeOrType, bool kindFlag = false, params uint[] extra)
    {
        _words.Add(name.Length == 0 ? 0 : Str(name));
        _words.Add((uint)vlen | ((uint)kind << 24) | (kindFlag ? 1u << 31 : 0));
        _words.Add(sizeOrType);
        _words.AddRange(extra);
        return ++_count;
    }

    public int Int(string name, uint size, uint bits, bool signed = false) => Type(name, 1, 0, size, false, (signed ? 1u << 24 : 0) | bits);

    public byte[] Build(bool bigEndian = false)
    {
        byte[] strings = _strings.ToArray();
        int typeLen = _words.Count * 4;
        byte[] blob = new byte[24 + typeLen + strings.Length];
        void U16(int at, ushort v) { if (bigEndian) BinaryPrimitives.WriteUInt16BigEndian(blob.AsSpan(at), v); else BinaryPrimitives.WriteUInt16LittleEndian(blob.AsSpan(at), v); }
        void U32(int at, uint v) { if (bigEndian) BinaryPrimitives.WriteUInt32BigEndian(blob.AsSpan(at), v); else BinaryPrimitives.WriteUInt32LittleEndian(blob.AsSpan(at), v); }
        U16(0, 0xeb9f);
        blob[2] = 1;
        U32(4, 24);
        U32(8, 0);
        U32(12, (uint)typeLen);
        U32(16, (uint)typeLen);
        U32(20, (uint)strings.Length);
        for (int i = 0; i < _words.Count; i++)
        {
            U32(24 + i * 4, _words[i]);
        }
        strings.CopyTo(blob, 24 + typeLen);
        return blob;
    }
}
