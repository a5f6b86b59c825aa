namespace Kscope.Formats.Btf;

/// <summary>
/// The layout of a struct or union as pahole computes it: member offsets in bytes and bits, sizes,
/// holes between members (bytes, and bits after bitfields), trailing padding and cache lines.
/// Anonymous struct/union members are expanded (<see cref="BtfLayoutMember.Nested"/>). Nesting by
/// value is bounded, so a cyclic type graph throws <see cref="MalformedDataException"/>.
/// </summary>
public sealed class BtfLayout
{
    private const int MaxNesting = 32;

    private BtfLayout(BtfType type, long baseBitOffset, long size, int alignment, IReadOnlyList<BtfLayoutMember> members, long padding, long bitPadding)
    {
        Type = type;
        BaseBitOffset = baseBitOffset;
        Size = size;
        Alignment = alignment;
        Members = members;
        Padding = padding;
        BitPadding = bitPadding;
    }

    public BtfType Type { get; }

    public bool IsUnion => Type.Kind == BtfKind.Union;

    /// <summary>Where this (nested) type starts in the outermost type, in bits.</summary>
    public long BaseBitOffset { get; }

    public long Size { get; }

    public int Alignment { get; }

    public IReadOnlyList<BtfLayoutMember> Members { get; }

    /// <summary>Bytes after the last member up to <see cref="Size"/> (structs).</summary>
    public long Padding { get; }

    /// <summary>Unused bits at the end of the last bitfield's storage unit when it is last.</summary>
    public long BitPadding { get; }

    public int HoleCount => Members.Count(m => m.HoleAfter > 0);

    public long HoleBytes => Members.Sum(m => m.HoleAfter);

    public int BitHoleCount => Members.Count(m => m.BitHoleAfter > 0);

    public long BitHoleBits => Members.Sum(m => m.BitHoleAfter);

    public static long CacheLines(long size, int cacheLine = 64) => (size + cacheLine - 1) / cacheLine;

    /// <summary>Layout of a struct or union (typedefs and modifiers resolved).</summary>
    public static BtfLayout Compute(Btf btf, int typeId) => Compute(btf, btf.Resolve(typeId), 0, 0, new int[1]);

    private const int MaxExpandedTypes = 100_000;

    private static BtfLayout Compute(Btf btf, int typeId, long baseBit, int depth, int[] budget)
    {
        if (++budget[0] > MaxExpandedTypes)
        {
            throw new MalformedDataException(Btf.Format, btf.OffsetOf(typeId), $"type {typeId}: more than {MaxExpandedTypes} nested anonymous types to expand");
        }
        BtfType type = btf.ResolveType(typeId);
        if (!type.IsComposite)
        {
            throw new ArgumentException($"type {typeId} '{type.Name}' is {type.Kind}, not a struct or union", nameof(typeId));
        }
        if (depth > MaxNesting)
        {
            throw new MalformedDataException(Btf.Format, btf.OffsetOf(type.Id), $"type {type.Id}: structs nested by value deeper than {MaxNesting} (cyclic?)");
        }
        int n = type.Members.Count;
        var start = new long[n];
        var end = new long[n];
        var unitStart = new long[n];
        var unitEnd = new long[n];
        var byteOffset = new long[n];
        var size = new long[n];
        var bitfield = new uint[n];
        var bitPosition = new uint[n];
        for (int i = 0; i < n; i++)
        {
            BtfMember m = type.Members[i];
            long bit = baseBit + m.BitOffset;
            uint bits = m.BitfieldSize;
            long typeSize = btf.SizeOf(m.TypeId);
            if (bits == 0 && !type.HasBitfieldEncoding)
            {
                // Old encoding: an INT member whose bit count is smaller than its size is a bitfield.
                BtfType resolved = btf.ResolveType(m.TypeId);
                if (resolved.Kind == BtfKind.Int && resolved.Int.Bits < resolved.Size * 8)
                {
                    bits = resolved.Int.Bits;
                    bit += resolved.Int.BitOffset;
                }
            }
            if (bits != 0)
            {
                long unit = typeSize is 1 or 2 or 4 or 8 or 16 ? typeSize : 1;
                long unitByte = bit / (unit * 8) * unit;
                if (bit - unitByte * 8 + bits > unit * 8)
                {
                    unitByte = bit / 8;
                    unit = (bit % 8 + bits + 7) / 8;
                }
                start[i] = bit;
                end[i] = bit + bits;
                unitStart[i] = unitByte * 8;
                unitEnd[i] = (unitByte + unit) * 8;
                byteOffset[i] = unitByte;
                size[i] = unit;
                bitfield[i] = bits;
                bitPosition[i] = (uint)(bit - unitByte * 8);
            }
            else
            {
                start[i] = unitStart[i] = bit;
                end[i] = unitEnd[i] = bit + typeSize * 8;
                byteOffset[i] = bit / 8;
                size[i] = typeSize;
            }
        }

        var members = new BtfLayoutMember[n];
        long typeEnd = baseBit + (long)type.Size * 8;
        long maxEnd = baseBit;
        for (int i = 0; i < n; i++)
        {
            long hole = 0, bitHole = 0;
            if (type.Kind == BtfKind.Struct && i + 1 < n)
            {
                (hole, bitHole) = Gap(i, i + 1);
            }
            BtfMember m = type.Members[i];
            BtfLayout? nested = null;
            BtfType direct = SkipModifiers(btf, m.TypeId);
            if (direct.IsComposite && direct.Name.Length == 0 && bitfield[i] == 0)
            {
                nested = Compute(btf, direct.Id, start[i], depth + 1, budget);
            }
            members[i] = new BtfLayoutMember(m.Name, m.TypeId, start[i], byteOffset[i], size[i], bitfield[i], bitPosition[i], hole, bitHole, nested);
            maxEnd = Math.Max(maxEnd, bitfield[i] != 0 ? end[i] : unitEnd[i]);
        }

        long padding = 0, bitPadding = 0;
        if (type.Kind == BtfKind.Struct && n > 0)
        {
            int last = n - 1;
            long lastEnd = Math.Max(maxEnd, unitEnd[last]);
            if (bitfield[last] != 0)
            {
                bitPadding = Math.Max(0, unitEnd[last] - end[last]);
            }
            padding = Math.Max(0, (typeEnd - lastEnd) / 8);
        }
        return new BtfLayout(type, baseBit, type.Size, btf.AlignOf(type.Id), members, padding, bitPadding);

        (long Bytes, long Bits) Gap(int p, int q)
        {
            if (start[q] < end[p])
            {
                return (0, 0); // overlapping (zero-size markers, packed tricks)
            }
            if (bitfield[p] != 0 && bitfield[q] != 0 && unitStart[q] < unitEnd[p])
            {
                return (0, start[q] - end[p]); // bits left between two bitfields of one storage unit
            }
            long next = bitfield[q] != 0 ? unitStart[q] : start[q];
            if (bitfield[p] != 0)
            {
                return (Math.Max(0, (next - unitEnd[p]) / 8), Math.Max(0, Math.Min(next, unitEnd[p]) - end[p]));
            }
            return (Math.Max(0, (next - end[p]) / 8), 0);
        }
    }

    private static BtfType SkipModifiers(Btf btf, int id)
    {
        BtfType t = btf.GetType(id);
        for (int i = 0; i < 64 && t.Kind is BtfKind.Const or BtfKind.Volatile or BtfKind.Restrict or BtfKind.TypeTag; i++)
        {
            t = btf.GetType(t.TypeId);
        }
        return t;
    }
}
