using System.Buffers.Binary;
using System.Text;

namespace Kscope.TestKit;

/// <summary>
/// Type ids by name in /sys/kernel/btf/vmlinux for the probes' attach targets, read with a walk of its own
/// (struct btf_header and struct btf_type, include/uapi/linux/btf.h) so the probes do not rest on
/// kscope's BTF parser.
/// </summary>
internal static class VmlinuxTypes
{
    public const string Path = "/sys/kernel/btf/vmlinux";
    public const int Typedef = 8, Func = 12;

    private static readonly Lazy<byte[]?> s_bytes = new(() => File.Exists(Path) ? File.ReadAllBytes(Path) : null);

    /// <summary>The id of the type of <paramref name="kind"/> named <paramref name="name"/>, or 0.</summary>
    public static uint Find(string name, int kind)
    {
        byte[] b = s_bytes.Value ?? throw new InvalidOperationException("no " + Path);
        ReadOnlySpan<byte> data = b;
        uint hdrLen = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
        uint typeOff = BinaryPrimitives.ReadUInt32LittleEndian(data[8..]);
        uint typeLen = BinaryPrimitives.ReadUInt32LittleEndian(data[12..]);
        uint strOff = BinaryPrimitives.ReadUInt32LittleEndian(data[16..]);
        ReadOnlySpan<byte> types = data.Slice((int)(hdrLen + typeOff), (int)typeLen);
        ReadOnlySpan<byte> strings = data[(int)(hdrLen + strOff)..];
        byte[] wanted = Encoding.ASCII.GetBytes(name);
        uint id = 1;
        for (int at = 0; at + 12 <= types.Length; id++)
        {
            uint nameOff = BinaryPrimitives.ReadUInt32LittleEndian(types[at..]);
            uint info = BinaryPrimitives.ReadUInt32LittleEndian(types[(at + 4)..]);
            int k = (int)((info >> 24) & 0x1f);
            int vlen = (int)(info & 0xffff);
            if (k == kind && NameIs(strings, nameOff, wanted))
            {
                return id;
            }
            at += 12 + k switch
            {
                1 or 14 or 17 => 4,            // INT, VAR, DECL_TAG
                3 => 12,                       // ARRAY
                4 or 5 or 15 or 19 => 12 * vlen, // STRUCT, UNION, DATASEC, ENUM64
                6 or 13 => 8 * vlen,           // ENUM, FUNC_PROTO
                _ => 0,                        // PTR, FWD, TYPEDEF, VOLATILE, CONST, RESTRICT, FUNC, FLOAT, TYPE_TAG
            };
        }
        return 0;
    }

    /// <summary>True when the string section holds <paramref name="text"/> (an enumerator name such as BPF_TRACE_KPROBE_MULTI).</summary>
    public static bool HasString(string text)
    {
        byte[] b = s_bytes.Value ?? throw new InvalidOperationException("no " + Path);
        uint hdrLen = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(4));
        uint strOff = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(16));
        uint strLen = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(20));
        ReadOnlySpan<byte> strings = b.AsSpan((int)(hdrLen + strOff), (int)strLen);
        byte[] needle = Encoding.ASCII.GetBytes("\0" + text + "\0");
        return strings.IndexOf(needle) >= 0;
    }

    private static bool NameIs(ReadOnlySpan<byte> strings, uint offset, byte[] wanted) =>
        offset + wanted.Length < strings.Length && strings.Slice((int)offset, wanted.Length).SequenceEqual(wanted) && strings[(int)offset + wanted.Length] == 0;
}
