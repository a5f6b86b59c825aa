using System.Text;

namespace Kscope.Formats.Btf;

public sealed partial class Btf
{
    /// <summary>Ids of every type with this exact name (base types first for split BTF). Builds the name index on first use.</summary>
    public IReadOnlyList<int> FindTypes(string name)
    {
        var result = new List<int>();
        if (name.Length == 0)
        {
            return result;
        }
        int max = Encoding.UTF8.GetMaxByteCount(name.Length);
        Span<byte> buffer = max <= 512 ? stackalloc byte[max] : new byte[max];
        int length = Encoding.UTF8.GetBytes(name, buffer);
        CollectByName(buffer[..length], result);
        return result;
    }

    /// <summary>The first type with this name and kind, or null.</summary>
    public BtfType? FindType(string name, BtfKind kind)
    {
        foreach (int id in FindTypes(name))
        {
            if (GetKind(id) == kind)
            {
                return GetType(id);
            }
        }
        return null;
    }

    /// <summary>A struct (else a union) with this name, or null. Forward declarations are skipped.</summary>
    public BtfType? FindComposite(string name) => FindType(name, BtfKind.Struct) ?? FindType(name, BtfKind.Union);

    /// <summary>The most useful type with this name: struct, union, enum, enum64, typedef, int, float, func, var, then anything.</summary>
    public BtfType? FindAny(string name)
    {
        IReadOnlyList<int> ids = FindTypes(name);
        foreach (BtfKind kind in s_preference)
        {
            foreach (int id in ids)
            {
                if (GetKind(id) == kind)
                {
                    return GetType(id);
                }
            }
        }
        return ids.Count > 0 ? GetType(ids[0]) : null;
    }

    private static readonly BtfKind[] s_preference =
        [BtfKind.Struct, BtfKind.Union, BtfKind.Enum, BtfKind.Enum64, BtfKind.Typedef, BtfKind.Int, BtfKind.Float, BtfKind.Func, BtfKind.Var, BtfKind.DataSec];

    private void CollectByName(ReadOnlySpan<byte> name, List<int> result)
    {
        Base?.CollectByName(name, result);
        if (_index is null && _scans < ScansBeforeIndex)
        {
            _scans++;
            ScanByName(name, result);
            result.Sort();
            return;
        }
        NameIndex index = _index ??= BuildIndex();
        uint hash = NameIndex.Hash(name);
        for (int local = index.Heads[hash & index.Mask] - 1; local >= 0; local = index.Next[local] - 1)
        {
            if (index.Hashes[local] == hash && NameBytes(local).SequenceEqual(name))
            {
                result.Add(FirstTypeId + local);
            }
        }
        result.Sort();
    }

    // A command that looks up one or two names (kscope btf dump kvm_run) is done before hashing every name would be:
    // one pass comparing first bytes in place is several times cheaper than building the index.
    private const int ScansBeforeIndex = 2;
    private int _scans;

    private void ScanByName(ReadOnlySpan<byte> name, List<int> result)
    {
        ReadOnlySpan<byte> strings = _strings.Span;
        byte first = name[0];
        for (int local = 0; local < OwnTypeCount; local++)
        {
            uint nameOff = Word(_offsets[local]);
            if (nameOff == 0)
            {
                continue;
            }
            uint inOwn = nameOff - _stringBase;
            if (nameOff >= _stringBase && inOwn < (uint)strings.Length && strings[(int)inOwn] != first)
            {
                continue;
            }
            if (NameBytes(local).SequenceEqual(name)) // also the typed error for an offset outside the strings
            {
                result.Add(FirstTypeId + local);
            }
        }
    }

    private ReadOnlySpan<byte> NameBytes(int local)
    {
        int at = _offsets[local];
        return GetStringBytes(Word(at), _typesAt + at);
    }

    private NameIndex BuildIndex()
    {
        int size = 16;
        while (size < OwnTypeCount * 2)
        {
            size <<= 1;
        }
        var index = new NameIndex(new int[size], new int[OwnTypeCount], new uint[OwnTypeCount], (uint)size - 1);
        // Insert backwards so chains list lower ids first.
        for (int local = OwnTypeCount - 1; local >= 0; local--)
        {
            uint nameOff = Word(_offsets[local]);
            if (nameOff == 0)
            {
                continue;
            }
            uint hash = NameIndex.Hash(NameBytes(local));
            index.Hashes[local] = hash;
            ref int head = ref index.Heads[hash & index.Mask];
            index.Next[local] = head;
            head = local + 1;
        }
        return index;
    }

    /// <summary>Chained hash table over own type indexes (+1, 0 = end), keyed by FNV-1a of the name bytes.</summary>
    private sealed record NameIndex(int[] Heads, int[] Next, uint[] Hashes, uint Mask)
    {
        internal static uint Hash(ReadOnlySpan<byte> name)
        {
            uint h = 2166136261;
            foreach (byte b in name)
            {
                h = (h ^ b) * 16777619;
            }
            return h;
        }
    }
}
