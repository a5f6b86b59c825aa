using System.Buffers.Binary;
using System.Text;
using Kscope.Formats.Btf;
using BtfTypes = Kscope.Formats.Btf.Btf;

namespace Kscope.Diagnostics.Bpf;

/// <summary>Formats raw map values and records with their BTF type: <c>{pid=42, comm="bash"}</c>.</summary>
public static class BtfValueFormatter
{
    private const int MaxDepth = 8;

    public static string Format(BtfTypes btf, int typeId, ReadOnlySpan<byte> data)
    {
        var sb = new StringBuilder();
        Write(sb, btf, typeId, data, 0);
        return sb.ToString();
    }

    /// <summary>Lowercase hex, space-separated.</summary>
    public static string Hex(ReadOnlySpan<byte> data) => Convert.ToHexString(data).ToLowerInvariant() is var h && h.Length > 0
        ? string.Join(' ', Enumerable.Range(0, data.Length).Select(i => h.Substring(i * 2, 2)))
        : "";

    private static void Write(StringBuilder sb, BtfTypes btf, int typeId, ReadOnlySpan<byte> data, int depth)
    {
        int id = btf.Resolve(typeId);
        BtfType t = btf.GetType(id);
        long size = t.Kind is BtfKind.Void or BtfKind.FuncProto ? 0 : btf.SizeOf(id);
        // A record may be shorter than its type: programs often send only the used prefix of a trailing
        // array (execsnoop's args). Structs then show the members present, char arrays the bytes present.
        bool partialOk = t.IsComposite || (t.Kind == BtfKind.Array && btf.GetType(btf.Resolve(t.Array.ElementTypeId)) is { Kind: BtfKind.Int } e && btf.SizeOf(e.Id) == 1);
        if ((size > data.Length && !(partialOk && data.Length > 0)) || depth > MaxDepth)
        {
            sb.Append(Hex(data));
            return;
        }
        switch (t.Kind)
        {
            case BtfKind.Int:
                sb.Append(Int(data[..(int)size], t.Int.IsSigned, t.Int.Encoding.HasFlag(BtfIntEncoding.Bool)));
                return;
            case BtfKind.Pointer:
                sb.Append("0x").Append(BinaryPrimitives.ReadUInt64LittleEndian(data).ToString("x"));
                return;
            case BtfKind.Enum:
            case BtfKind.Enum64:
            {
                long v = size switch
                {
                    1 => t.IsSigned ? (sbyte)data[0] : data[0],
                    2 => t.IsSigned ? BinaryPrimitives.ReadInt16LittleEndian(data) : BinaryPrimitives.ReadUInt16LittleEndian(data),
                    4 => t.IsSigned ? BinaryPrimitives.ReadInt32LittleEndian(data) : BinaryPrimitives.ReadUInt32LittleEndian(data),
                    _ => BinaryPrimitives.ReadInt64LittleEndian(data),
                };
                string? name = t.EnumValues.FirstOrDefault(e => e.Value == v).Name;
                sb.Append(name ?? v.ToString(System.Globalization.CultureInfo.InvariantCulture));
                return;
            }
            case BtfKind.Array:
            {
                int elem = btf.Resolve(t.Array.ElementTypeId);
                BtfType et = btf.GetType(elem);
                long es = btf.SizeOf(elem);
                if (et.Kind == BtfKind.Int && es == 1)
                {
                    ReadOnlySpan<byte> chars = data[..(int)Math.Min(t.Array.Count, data.Length)];
                    int end = chars.IndexOf((byte)0);
                    ReadOnlySpan<byte> text = end < 0 ? chars : chars[..end];
                    if (text.IndexOfAnyInRange((byte)0, (byte)31) < 0)
                    {
                        sb.Append('"').Append(Encoding.UTF8.GetString(text)).Append('"');
                        return;
                    }
                }
                sb.Append('[');
                for (int i = 0; i < t.Array.Count && i < 64 && i * es < data.Length; i++)
                {
                    if (i > 0)
                    {
                        sb.Append(", ");
                    }
                    Write(sb, btf, elem, data[(int)(i * es)..], depth + 1);
                }
                sb.Append(']');
                return;
            }
            case BtfKind.Struct:
            case BtfKind.Union:
            {
                sb.Append('{');
                bool first = true;
                foreach (BtfMember m in t.Members)
                {
                    if (m.ByteOffset >= data.Length)
                    {
                        sb.Append(first ? "…" : ", …");
                        break;
                    }
                    if (!first)
                    {
                        sb.Append(", ");
                    }
                    first = false;
                    if (m.Name.Length > 0)
                    {
                        sb.Append(m.Name).Append('=');
                    }
                    if (m.IsBitfield)
                    {
                        ulong word = 0;
                        int from = (int)(m.BitOffset / 8);
                        for (int b = 0; b < 8 && from + b < data.Length; b++)
                        {
                            word |= (ulong)data[from + b] << (8 * b);
                        }
                        sb.Append((word >> (int)(m.BitOffset % 8)) & ((1UL << (int)m.BitfieldSize) - 1));
                    }
                    else
                    {
                        Write(sb, btf, m.TypeId, data[(int)m.ByteOffset..], depth + 1);
                    }
                }
                sb.Append('}');
                return;
            }
            case BtfKind.DataSec:
            {
                bool first = true;
                foreach (BtfVarSecInfo v in t.SecInfos)
                {
                    if (!first)
                    {
                        sb.Append(", ");
                    }
                    first = false;
                    sb.Append(btf.GetName(v.TypeId)).Append('=');
                    if (v.Offset + v.Size <= data.Length)
                    {
                        Write(sb, btf, btf.GetType(v.TypeId).TypeId, data[(int)v.Offset..], depth + 1);
                    }
                }
                return;
            }
            default:
                sb.Append(Hex(data[..(int)size]));
                return;
        }
    }

    private static string Int(ReadOnlySpan<byte> d, bool signed, bool isBool) => isBool ? (d[0] != 0 ? "true" : "false") : d.Length switch
    {
        1 => signed ? ((sbyte)d[0]).ToString() : d[0].ToString(),
        2 => signed ? BinaryPrimitives.ReadInt16LittleEndian(d).ToString() : BinaryPrimitives.ReadUInt16LittleEndian(d).ToString(),
        4 => signed ? BinaryPrimitives.ReadInt32LittleEndian(d).ToString() : BinaryPrimitives.ReadUInt32LittleEndian(d).ToString(),
        8 => signed ? BinaryPrimitives.ReadInt64LittleEndian(d).ToString() : BinaryPrimitives.ReadUInt64LittleEndian(d).ToString(),
        _ => Hex(d),
    };
}
