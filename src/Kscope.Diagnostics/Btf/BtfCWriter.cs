using System.Text;
using Kscope.Formats;
using Kscope.Formats.Btf;
using BtfTypes = Kscope.Formats.Btf.Btf;

namespace Kscope.Diagnostics.Btf;

/// <summary>
/// Writes BTF types as C a compiler accepts (like <c>bpftool btf dump … format c</c>): dependencies
/// first, forward declarations for types only pointed to, anonymous types inline, duplicate names
/// suffixed "___2", explicit padding (anonymous bitfields) and <c>__attribute__((packed))</c> where
/// the BTF offsets are not where C would put the members, so sizeof/offsetof match the kernel.
/// </summary>
public sealed class BtfCWriter
{
    private const int MaxDepth = 10_000;
    private readonly BtfTypes _btf;
    private readonly StringBuilder _out = new();
    private readonly byte[] _state;          // 0 none, 1 in progress, 2 written
    private readonly bool[] _forwarded;
    private readonly string?[] _names;
    private readonly Dictionary<string, int> _tagCounts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _identCounts = new(StringComparer.Ordinal);
    private readonly Dictionary<int, string[]> _enumeratorNames = [];
    private int _depth;
    private int _indent;

    public BtfCWriter(BtfTypes btf)
    {
        _btf = btf;
        _state = new byte[btf.TypeCount];
        _forwarded = new bool[btf.TypeCount];
        _names = new string?[btf.TypeCount];
    }

    /// <summary>C for the named types and everything they need, or for every type when <paramref name="roots"/> is empty.</summary>
    public string Write(IReadOnlyList<int> roots, bool header = true)
    {
        if (header)
        {
            _out.Append("#ifndef __KSCOPE_BTF_H__\n#define __KSCOPE_BTF_H__\n\n");
            _out.Append("#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n#endif\n\n");
        }
        if (roots.Count == 0)
        {
            bool[] referenced = ReferencedAnonymous();
            for (int id = 1; id < _btf.TypeCount; id++)
            {
                BtfKind kind = _btf.GetKind(id);
                switch (kind)
                {
                    case BtfKind.Struct or BtfKind.Union:
                        if (_btf.GetType(id).Name.Length > 0)
                        {
                            EnsureDefined(id);
                        }
                        break;
                    case BtfKind.Enum or BtfKind.Enum64:
                        if (_btf.GetType(id).Name.Length > 0 || !referenced[id])
                        {
                            EnsureDefined(id);
                        }
                        break;
                    case BtfKind.Typedef:
                        EnsureDeclared(id);
                        break;
                    case BtfKind.Forward:
                        EnsureDeclared(id);
                        break;
                }
            }
        }
        else
        {
            foreach (int id in roots)
            {
                EnsureDefined(id);
            }
        }
        if (header)
        {
            _out.Append("#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n#endif\n\n#endif /* __KSCOPE_BTF_H__ */\n");
        }
        return _out.ToString();
    }

    /// <summary>The C name used for a struct/union/enum/typedef (after deduplication), e.g. for sizeof in asserts.</summary>
    public string CName(int id) => DeclarationOf(id, "");

    private bool[] ReferencedAnonymous()
    {
        var referenced = new bool[_btf.TypeCount];
        for (int id = 1; id < _btf.TypeCount; id++)
        {
            BtfType t = _btf.GetType(id);
            switch (t.Kind)
            {
                case BtfKind.Struct or BtfKind.Union:
                    foreach (BtfMember m in t.Members)
                    {
                        referenced[m.TypeId] = true;
                    }
                    break;
                case BtfKind.Array:
                    referenced[t.Array.ElementTypeId] = true;
                    break;
                case BtfKind.FuncProto:
                    referenced[t.TypeId] = true;
                    foreach (BtfParameter p in t.Parameters)
                    {
                        referenced[p.TypeId] = true;
                    }
                    break;
                case BtfKind.Pointer or BtfKind.Typedef or BtfKind.Const or BtfKind.Volatile or BtfKind.Restrict or BtfKind.TypeTag or BtfKind.Var:
                    referenced[t.TypeId] = true;
                    break;
            }
        }
        return referenced;
    }

    private void Enter(int id)
    {
        if (++_depth > MaxDepth)
        {
            throw new MalformedDataException("BTF", _btf.OffsetOf(id), $"type {id}: dependencies nest deeper than {MaxDepth}");
        }
    }

    /// <summary>The type must be complete here (used by value).</summary>
    private void EnsureDefined(int id)
    {
        Enter(id);
        try
        {
            BtfType t = _btf.GetType(id);
            switch (t.Kind)
            {
                case BtfKind.Struct or BtfKind.Union:
                    if (t.Name.Length == 0)
                    {
                        MemberDependencies(t);
                    }
                    else
                    {
                        DefineComposite(t);
                    }
                    break;
                case BtfKind.Enum or BtfKind.Enum64:
                    if (t.Name.Length == 0)
                    {
                        if (_state[id] == 0 && _depth == 1)
                        {
                            _state[id] = 2;
                            _out.Append("enum ").Append(EnumBody(t)).Append(";\n\n");
                        }
                    }
                    else if (_state[id] == 0)
                    {
                        _state[id] = 2;
                        _out.Append("enum ").Append(NameOf(t)).Append(' ').Append(EnumBody(t)).Append(";\n\n");
                    }
                    break;
                case BtfKind.Typedef:
                    EmitTypedef(t);
                    EnsureDefined(t.TypeId);
                    break;
                case BtfKind.Const or BtfKind.Volatile or BtfKind.Restrict or BtfKind.TypeTag:
                    EnsureDefined(t.TypeId);
                    break;
                case BtfKind.Array:
                    EnsureDefined(t.Array.ElementTypeId);
                    break;
                case BtfKind.Pointer or BtfKind.FuncProto or BtfKind.Forward:
                    EnsureDeclared(id);
                    break;
                case BtfKind.Var or BtfKind.Func:
                    EnsureDefined(t.TypeId);
                    break;
            }
        }
        finally
        {
            _depth--;
        }
    }

    /// <summary>The type is only named here (behind a pointer, in a prototype, a typedef's target).</summary>
    private void EnsureDeclared(int id)
    {
        Enter(id);
        try
        {
            BtfType t = _btf.GetType(id);
            switch (t.Kind)
            {
                case BtfKind.Struct or BtfKind.Union or BtfKind.Forward:
                    if (t.Name.Length == 0)
                    {
                        MemberDependencies(t);
                    }
                    else if (_state[id] != 2 && !_forwarded[id])
                    {
                        _forwarded[id] = true;
                        bool union = t.Kind == BtfKind.Union || t.IsUnionForward;
                        _out.Append(union ? "union " : "struct ").Append(NameOf(t)).Append(";\n\n");
                    }
                    break;
                case BtfKind.Enum or BtfKind.Enum64:
                    EnsureDefined(id);
                    break;
                case BtfKind.Typedef:
                    EmitTypedef(t);
                    break;
                case BtfKind.Pointer or BtfKind.Const or BtfKind.Volatile or BtfKind.Restrict or BtfKind.TypeTag:
                    EnsureDeclared(t.TypeId);
                    break;
                case BtfKind.Array:
                    EnsureDefined(t.Array.ElementTypeId);
                    break;
                case BtfKind.FuncProto:
                    EnsureDeclared(t.TypeId);
                    foreach (BtfParameter p in t.Parameters)
                    {
                        EnsureDeclared(p.TypeId);
                    }
                    break;
            }
        }
        finally
        {
            _depth--;
        }
    }

    private void EmitTypedef(BtfType t)
    {
        if (_state[t.Id] != 0)
        {
            return;
        }
        if (t.Name.StartsWith("__builtin_", StringComparison.Ordinal))
        {
            _state[t.Id] = 2; // the compiler's own (__builtin_va_list): redefining it is an error
            return;
        }
        _state[t.Id] = 1;
        BtfType target = _btf.GetType(t.TypeId);
        if (target.Kind is BtfKind.Struct or BtfKind.Union && target.Name.Length == 0)
        {
            MemberDependencies(target);
        }
        else
        {
            EnsureDeclared(t.TypeId);
        }
        _out.Append("typedef ").Append(Declaration(t.TypeId, NameOf(t))).Append(";\n\n");
        _state[t.Id] = 2;
    }

    private void MemberDependencies(BtfType composite)
    {
        if (_state[composite.Id] == 1)
        {
            return; // cyclic by value: invalid in C, the BTF is malformed; stop here
        }
        byte previous = _state[composite.Id];
        _state[composite.Id] = 1;
        foreach (BtfMember m in composite.Members)
        {
            EnsureDefined(m.TypeId);
        }
        _state[composite.Id] = previous;
    }

    private void DefineComposite(BtfType t)
    {
        if (_state[t.Id] != 0)
        {
            return;
        }
        _state[t.Id] = 1;
        foreach (BtfMember m in t.Members)
        {
            EnsureDefined(m.TypeId);
        }
        _out.Append(t.Kind == BtfKind.Union ? "union " : "struct ").Append(NameOf(t)).Append(' ').Append(CompositeBody(t)).Append(";\n\n");
        _state[t.Id] = 2;
    }

    private string Declaration(int typeId, string name) => BtfDeclaration.Declare(_btf, typeId, name, AnonymousBody, NameOf);

    private string DeclarationOf(int id, string name) => Declaration(id, name);

    private string AnonymousBody(BtfType t) => t.Kind is BtfKind.Enum or BtfKind.Enum64 ? EnumBody(t) : CompositeBody(t);

    private string CompositeBody(BtfType t)
    {
        _indent++;
        try
        {
            bool packed = _btf.IsPacked(t.Id);
            string? body = t.Kind == BtfKind.Union ? UnionMembers(t) : StructMembers(t, packed);
            if (body is null)
            {
                packed = true;
                body = StructMembers(t, true)!;
            }
            var sb = new StringBuilder("{\n").Append(body).Append('\t', _indent - 1).Append('}');
            if (packed)
            {
                sb.Append(" __attribute__((packed))");
            }
            return sb.ToString();
        }
        finally
        {
            _indent--;
        }
    }

    private string UnionMembers(BtfType t)
    {
        var sb = new StringBuilder();
        long largest = 0;
        int align = 1;
        foreach (BtfMember m in t.Members)
        {
            (uint bits, _) = Bitfield(t, m);
            Line(sb).Append(Declaration(m.TypeId, m.Name)).Append(bits != 0 ? $": {bits}" : "").Append(";\n");
            largest = Math.Max(largest, _btf.SizeOf(m.TypeId));
            align = Math.Max(align, _btf.AlignOf(m.TypeId));
        }
        long natural = (largest + align - 1) / align * align;
        if (t.Size > natural)
        {
            Line(sb).Append($"char __kscope_pad[{t.Size}];\n");
        }
        return sb.ToString();
    }

    /// <summary>Members with padding where needed; null when C would place a member later than BTF says (needs packed).</summary>
    private string? StructMembers(BtfType t, bool packed)
    {
        var sb = new StringBuilder();
        long cursor = 0;
        int maxAlign = 1;
        foreach (BtfMember m in t.Members)
        {
            (uint bits, long bitOffset) = Bitfield(t, m);
            long size = _btf.SizeOf(m.TypeId);
            int align = packed ? 1 : _btf.AlignOf(m.TypeId);
            long natural;
            if (bits != 0)
            {
                long unit = Math.Max(8, size * 8);
                natural = cursor;
                if (!packed && natural / unit != (natural + bits - 1) / unit)
                {
                    natural = (natural + unit - 1) / unit * unit;
                }
            }
            else
            {
                natural = (cursor + align * 8L - 1) / (align * 8L) * (align * 8L);
            }
            if (bitOffset < natural)
            {
                return packed ? Fail(t) : null;
            }
            if (bitOffset > natural)
            {
                Pad(sb, cursor, bitOffset);
            }
            Line(sb).Append(Declaration(m.TypeId, m.Name)).Append(bits != 0 ? $": {bits}" : "").Append(";\n");
            cursor = bitOffset + (bits != 0 ? bits : size * 8);
            maxAlign = Math.Max(maxAlign, align);
        }
        long end = packed ? (cursor + 7) / 8 * 8 : (cursor + maxAlign * 8L - 1) / (maxAlign * 8L) * (maxAlign * 8L);
        long sizeBits = t.Size * 8L;
        if (end > sizeBits)
        {
            return packed ? Fail(t) : null;
        }
        if (end < sizeBits)
        {
            Pad(sb, cursor, sizeBits);
        }
        return sb.ToString();
    }

    private string Fail(BtfType t) => throw new MalformedDataException("BTF", _btf.OffsetOf(t.Id), $"type {t.Id} '{t.Name}': member offsets cannot be expressed in C");

    private (uint Bits, long BitOffset) Bitfield(BtfType t, BtfMember m)
    {
        if (m.BitfieldSize != 0 || t.HasBitfieldEncoding)
        {
            return (m.BitfieldSize, m.BitOffset);
        }
        BtfType resolved = _btf.ResolveType(m.TypeId);
        if (resolved.Kind == BtfKind.Int && resolved.Int.Bits < resolved.Size * 8)
        {
            return (resolved.Int.Bits, m.BitOffset + resolved.Int.BitOffset);
        }
        return (0, m.BitOffset);
    }

    private void Pad(StringBuilder sb, long from, long to)
    {
        long cursor = from;
        while (cursor < to)
        {
            long gap = to - cursor;
            (string type, long bits) = cursor % 8 != 0 ? ("unsigned char", Math.Min(gap, 8 - cursor % 8))
                : cursor % 64 == 0 && gap >= 64 ? ("long", 64L)
                : cursor % 32 == 0 && gap >= 32 ? ("int", 32L)
                : cursor % 16 == 0 && gap >= 16 ? ("short", 16L)
                : gap >= 8 ? ("char", 8L)
                : ("unsigned char", gap);
            Line(sb).Append(type).Append(": ").Append(bits).Append(";\n");
            cursor += bits;
        }
    }

    private string EnumBody(BtfType t)
    {
        _indent++;
        try
        {
            var sb = new StringBuilder("{\n");
            string[] names = EnumeratorNames(t);
            for (int i = 0; i < t.EnumValues.Count; i++)
            {
                BtfEnumValue v = t.EnumValues[i];
                string value = t.Kind == BtfKind.Enum64
                    ? (t.IsSigned ? v.Value + "LL" : v.UnsignedValue + "ULL")
                    : (t.IsSigned ? ((int)v.Value).ToString(System.Globalization.CultureInfo.InvariantCulture) : ((uint)v.Value).ToString(System.Globalization.CultureInfo.InvariantCulture) + (v.Value > int.MaxValue || v.Value < 0 ? "U" : ""));
                Line(sb).Append(names[i]).Append(" = ").Append(value).Append(",\n");
            }
            sb.Append('\t', _indent - 1).Append('}');
            if (t.Size is 1 or 2)
            {
                sb.Append(" __attribute__((packed))");
            }
            return sb.ToString();
        }
        finally
        {
            _indent--;
        }
    }

    private string[] EnumeratorNames(BtfType t)
    {
        if (!_enumeratorNames.TryGetValue(t.Id, out string[]? names))
        {
            names = t.EnumValues.Select(v => Unique(_identCounts, v.Name)).ToArray();
            _enumeratorNames[t.Id] = names;
        }
        return names;
    }

    private string NameOf(BtfType t)
    {
        if (t.Name.Length == 0)
        {
            return "";
        }
        if (t.Kind == BtfKind.Forward)
        {
            return t.Name;
        }
        return _names[t.Id] ??= Unique(t.Kind == BtfKind.Typedef ? _identCounts : _tagCounts, t.Name);
    }

    private static string Unique(Dictionary<string, int> counts, string name)
    {
        counts.TryGetValue(name, out int n);
        counts[name] = n + 1;
        return n == 0 ? name : $"{name}___{n + 1}";
    }

    private StringBuilder Line(StringBuilder sb) => sb.Append('\t', _indent);
}
