using Kscope.Formats.Btf;
using BtfTypes = Kscope.Formats.Btf.Btf;

namespace Kscope.Diagnostics.Btf;

/// <summary>One difference in a type between two BTF files.</summary>
public sealed record BtfDifference(string Type, string? Member, string Change, string Before, string After)
{
    public override string ToString() => Member is null
        ? $"{Type}: {Change} {Before} -> {After}"
        : $"{Type}.{Member}: {Change} {Before} -> {After}";
}

/// <summary>Compares named types between two BTFs: size, alignment, and every member (flattened through anonymous members) by path, offset, size and bitfield.</summary>
public static class BtfDiff
{
    private sealed record Flat(string Path, long BitOffset, long Size, uint Bits, string Type);

    public static IReadOnlyList<BtfDifference> Compare(BtfTypes a, BtfTypes b, IEnumerable<string> names)
    {
        var result = new List<BtfDifference>();
        foreach (string name in names)
        {
            BtfType? ta = BtfSource.Find(a, name), tb = BtfSource.Find(b, name);
            if (ta is null || tb is null)
            {
                result.Add(new BtfDifference(name, null, "presence", ta is null ? "absent" : "present", tb is null ? "absent" : "present"));
                continue;
            }
            string label = BtfDeclaration.BaseName(ta);
            if (ta.Kind != tb.Kind)
            {
                result.Add(new BtfDifference(label, null, "kind", ta.Kind.ToString(), tb.Kind.ToString()));
                continue;
            }
            if (a.SizeOf(ta.Id) != b.SizeOf(tb.Id))
            {
                result.Add(new BtfDifference(label, null, "size", a.SizeOf(ta.Id).ToString(), b.SizeOf(tb.Id).ToString()));
            }
            if (a.AlignOf(ta.Id) != b.AlignOf(tb.Id))
            {
                result.Add(new BtfDifference(label, null, "alignment", a.AlignOf(ta.Id).ToString(), b.AlignOf(tb.Id).ToString()));
            }
            if (a.ResolveType(ta.Id).IsComposite && b.ResolveType(tb.Id).IsComposite)
            {
                CompareMembers(label, Flatten(a, BtfLayout.Compute(a, ta.Id)), Flatten(b, BtfLayout.Compute(b, tb.Id)), result);
            }
            else if (ta.Kind is BtfKind.Enum or BtfKind.Enum64)
            {
                var va = ta.EnumValues.ToDictionary(v => v.Name, v => v.Value);
                var vb = tb.EnumValues.ToDictionary(v => v.Name, v => v.Value);
                foreach (var (k, v) in va)
                {
                    if (!vb.TryGetValue(k, out long w))
                    {
                        result.Add(new BtfDifference(label, k, "removed", v.ToString(), "-"));
                    }
                    else if (v != w)
                    {
                        result.Add(new BtfDifference(label, k, "value", v.ToString(), w.ToString()));
                    }
                }
                foreach (var (k, v) in vb)
                {
                    if (!va.ContainsKey(k))
                    {
                        result.Add(new BtfDifference(label, k, "added", "-", v.ToString()));
                    }
                }
            }
        }
        return result;
    }

    private static void CompareMembers(string label, List<Flat> fa, List<Flat> fb, List<BtfDifference> result)
    {
        var byPath = fb.GroupBy(f => f.Path).ToDictionary(g => g.Key, g => g.First());
        var seen = new HashSet<string>();
        foreach (Flat x in fa)
        {
            if (!seen.Add(x.Path))
            {
                continue;
            }
            if (!byPath.TryGetValue(x.Path, out Flat? y))
            {
                result.Add(new BtfDifference(label, x.Path, "removed", Where(x), "-"));
                continue;
            }
            if (x.BitOffset != y.BitOffset || x.Bits != y.Bits)
            {
                result.Add(new BtfDifference(label, x.Path, "offset", Where(x), Where(y)));
            }
            if (x.Size != y.Size)
            {
                result.Add(new BtfDifference(label, x.Path, "size", x.Size.ToString(), y.Size.ToString()));
            }
            if (x.Type != y.Type)
            {
                result.Add(new BtfDifference(label, x.Path, "type", x.Type, y.Type));
            }
        }
        var inA = fa.Select(f => f.Path).ToHashSet();
        foreach (Flat y in fb)
        {
            if (!inA.Contains(y.Path) && seen.Add(y.Path))
            {
                result.Add(new BtfDifference(label, y.Path, "added", "-", Where(y)));
            }
        }
    }

    private static string Where(Flat f) => f.Bits != 0 ? $"{f.BitOffset / 8}:{f.BitOffset % 8} ({f.Bits} bits)" : $"{f.BitOffset / 8} ({f.Size} bytes)";

    private static List<Flat> Flatten(BtfTypes btf, BtfLayout layout)
    {
        var list = new List<Flat>();
        Walk(layout, "", list);
        return list;

        void Walk(BtfLayout l, string prefix, List<Flat> into)
        {
            foreach (BtfLayoutMember m in l.Members)
            {
                string path = m.Name.Length == 0 ? prefix.TrimEnd('.') : prefix + m.Name;
                if (m.Nested is { } nested)
                {
                    Walk(nested, m.Name.Length == 0 ? prefix : path + ".", into);
                    if (m.Name.Length == 0)
                    {
                        continue;
                    }
                }
                into.Add(new Flat(path, m.BitOffset, m.IsBitfield ? 0 : m.Size, m.BitfieldSize, m.Nested is null ? BtfDeclaration.TypeName(btf, m.TypeId) : "(anonymous)"));
            }
        }
    }
}
