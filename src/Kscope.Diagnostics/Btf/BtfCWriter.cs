using Kscope.Formats;
using Kscope.Formats.Btf;
using BtfTypes = Kscope.Formats.Btf.Btf;

namespace Kscope.Diagnostics.Btf;

/// <summary>
/// Writes BTF types as C a compiler accepts (like <c>bpftool btf dump … format c</c>): dependencies
/// first, forward declarations for types only pointed to, anonymous types inline, duplicate names
/// suffixed "___2", explicit padding (anonymous bitfields) and <c>__attribute__((packed))</c> where
/// the BTF offsets are not where C would put the members, so sizeof/offsetof match the kernel.
/// Output is streamed to a <see cref="TextWriter"/> as types are reached (a whole vmlinux.h is never held in
/// memory); nothing that writes a body triggers other output, so bodies go straight to the writer.
/// </summary>
public sealed class BtfCWriter
{
    private const int MaxDepth = 10_000;
    private const long CollectEveryBytes = 4 << 20;
    private readonly BtfTypes _btf;
    private TextWriter _w = TextWriter.Null;
    private readonly byte[] _state;          // 0 none, 1 in progress, 2 written
    private readonly bool[] _forwarded;
    private readonly string?[] _names;
    private readonly Dictionary<string, int> _tagCounts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _identCounts = new(StringComparer.Ordinal);
    private readonly Dictionary<int, string[]> _enumeratorNames = [];
    private int _depth;
    private long _collectedAt;
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
        var text = new StringWriter();
        Write(text, roots, header);
        return text.ToString();
    }

    /// <summary>Streams C for the named types and everything they need (every type when <paramref name="roots"/> is empty) to <paramref name="output"/>.</summary>
    public void Write(TextWriter output, IReadOnlyList<int> roots, bool header = true)
    {
        _w = output;
        if (header)
        {
            _w.Write("#ifndef __KSCOPE_BTF_H__\n#define __KSCOPE_BTF_H__\n\n");
            _w.Write("#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n#endif\n\n");
        }
        if (roots.Count == 0)
        {
            bool[] referenced = ReferencedAnonymous();
            for (int id = 1; id < _btf.TypeCount; id++)
            {
                BoundGarbage(id);
                BtfKind kind = _btf.GetKind(id);
                switch (kind)
                {
                    case BtfKind.Struct or BtfKind.Union:
                        if (!_btf.IsAnonymous(id))
                        {
                            EnsureDefined(id);
                        }
                        break;
                    case BtfKind.Enum or BtfKind.Enum64:
                        if (!_btf.IsAnonymous(id) || !referenced[id])
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
            _w.Write("#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n#endif\n\n#endif /* __KSCOPE_BTF_H__ */\n");
        }
    }

    /// <summary>The C name used for a struct/union/enum/typedef (after deduplication), e.g. for sizeof in asserts.</summary>
    public string CName(int id) => DeclarationOf(id, "");

    // Reads only what it needs, without keeping types (ReadType): this pass touches every type.
    private bool[] ReferencedAnonymous()
    {
        var referenced = new bool[_btf.TypeCount];
        _collectedAt = GC.GetAllocatedBytesForCurrentThread();
        for (int id = 1; id < _btf.TypeCount; id++)
        {
            BoundGarbage(id);
            switch (_btf.GetKind(id))
            {
                case BtfKind.Struct or BtfKind.Union:
                    foreach (BtfMember m in _btf.ReadType(id).Members)
                    {
                        referenced[m.TypeId] = true;
                    }
                    break;
                case BtfKind.Array:
                    referenced[_btf.ReadType(id).Array.ElementTypeId] = true;
                    break;
                case BtfKind.FuncProto:
                    BtfType proto = _btf.ReadType(id);
                    referenced[proto.TypeId] = true;
                    foreach (BtfParameter p in proto.Parameters)
                    {
                        referenced[p.TypeId] = true;
                    }
                    break;
                case BtfKind.Pointer or BtfKind.Typedef or BtfKind.Const or BtfKind.Volatile or BtfKind.Restrict or BtfKind.TypeTag or BtfKind.Var:
                    referenced[_btf.TypeIdOf(id)] = true;
                    break;
            }
        }
        return referenced;
    }

    /// <summary>
    /// Called between top-level types of a whole-BTF walk, when everything allocated since the last call is dead
    /// (the text went to the writer, types are read without being kept). Without it the runtime lets gen0 grow to
    /// its budget, which it derives from the L3 cache size: 84 MiB on this 105 MiB-L3 Xeon, most of `kscope btf c`'s
    /// peak RSS. Collecting gen0 every few MiB of dead objects costs well under a millisecond each time.
    /// </summary>
    private void BoundGarbage(int id)
    {
        if ((id & 255) == 0 && GC.GetAllocatedBytesForCurrentThread() - _collectedAt > CollectEveryBytes)
        {
            GC.Collect(0, GCCollectionMode.Forced, blocking: true);
            _collectedAt = GC.GetAllocatedBytesForCurrentThread();
        }
    }

    private void Enter(int id)
    {
        if (++_depth > MaxDepth)
        {
            throw new MalformedDataException("BTF", _btf.OffsetOf(id), $"type {id}: dependencies nest deeper than {MaxDepth}");
        }
    }

    /// <summary>The type must be complete here (used by value).</summary>
    // Both Ensure methods decide from the kind, the name offset and their own state before reading a type, and
    // read with ReadType (not kept): every type is reached many times and a whole vmlinux must not stay in memory.
    private void EnsureDefined(int id)
    {
        Enter(id);
        try
        {
            switch (_btf.GetKind(id))
            {
                case BtfKind.Struct or BtfKind.Union:
                    if (_btf.IsAnonymous(id))
                    {
                        MemberDependencies(_btf.ReadType(id));
                    }
                    else if (_state[id] == 0)
                    {
                        DefineComposite(_btf.ReadType(id));
                    }
                    break;
                case BtfKind.Enum or BtfKind.Enum64:
                    if (_state[id] != 0)
                    {
                        break;
                    }
                    if (_btf.IsAnonymous(id))
                    {
                        if (_depth == 1)
                        {
                            _state[id] = 2;
                            _w.Write("enum ");
                            WriteEnumBody(_btf.ReadType(id));
                            _w.Write(";\n\n");
                        }
                    }
                    else
                    {
                        _state[id] = 2;
                        BtfType t = _btf.ReadType(id);
                        _w.Write("enum ");
                        _w.Write(NameOf(t));
                        _w.Write(' ');
                        WriteEnumBody(t);
                        _w.Write(";\n\n");
                    }
                    break;
                case BtfKind.Typedef:
                    if (_state[id] == 0)
                    {
                        EmitTypedef(_btf.ReadType(id));
                    }
                    EnsureDefined(_btf.TypeIdOf(id));
                    break;
                case BtfKind.Const or BtfKind.Volatile or BtfKind.Restrict or BtfKind.TypeTag or BtfKind.Var or BtfKind.Func:
                    EnsureDefined(_btf.TypeIdOf(id));
                    break;
                case BtfKind.Array:
                    EnsureDefined(_btf.ReadType(id).Array.ElementTypeId);
                    break;
                case BtfKind.Pointer or BtfKind.FuncProto or BtfKind.Forward:
                    EnsureDeclared(id);
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
            switch (_btf.GetKind(id))
            {
                case BtfKind.Struct or BtfKind.Union or BtfKind.Forward:
                    if (_btf.IsAnonymous(id))
                    {
                        MemberDependencies(_btf.ReadType(id));
                    }
                    else if (_state[id] != 2 && !_forwarded[id])
                    {
                        _forwarded[id] = true;
                        BtfType t = _btf.ReadTypeHeader(id);
                        bool union = t.Kind == BtfKind.Union || t.IsUnionForward;
                        _w.Write(union ? "union " : "struct ");
                        _w.Write(NameOf(t));
                        _w.Write(";\n\n");
                    }
                    break;
                case BtfKind.Enum or BtfKind.Enum64:
                    EnsureDefined(id);
                    break;
                case BtfKind.Typedef:
                    if (_state[id] == 0)
                    {
                        EmitTypedef(_btf.ReadType(id));
                    }
                    break;
                case BtfKind.Pointer or BtfKind.Const or BtfKind.Volatile or BtfKind.Restrict or BtfKind.TypeTag:
                    EnsureDeclared(_btf.TypeIdOf(id));
                    break;
                case BtfKind.Array:
                    EnsureDefined(_btf.ReadType(id).Array.ElementTypeId);
                    break;
                case BtfKind.FuncProto:
                    if (_state[id] == 0)
                    {
                        // Declaring a prototype's types once declares them for good: later references skip it.
                        BtfType proto = _btf.ReadType(id);
                        EnsureDeclared(proto.TypeId);
                        foreach (BtfParameter p in proto.Parameters)
                        {
                            EnsureDeclared(p.TypeId);
                        }
                        _state[id] = 2;
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
        if (_btf.GetKind(t.TypeId) is BtfKind.Struct or BtfKind.Union && _btf.IsAnonymous(t.TypeId))
        {
            MemberDependencies(_btf.ReadType(t.TypeId));
        }
        else
        {
            EnsureDeclared(t.TypeId);
        }
        _w.Write("typedef ");
        WriteDeclaration(t.TypeId, NameOf(t));
        _w.Write(";\n\n");
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
        _w.Write(t.Kind == BtfKind.Union ? "union " : "struct ");
        _w.Write(NameOf(t));
        _w.Write(' ');
        WriteCompositeBody(t);
        _w.Write(";\n\n");
        _state[t.Id] = 2;
    }

    private string Declaration(int typeId, string name) => BtfDeclaration.Declare(_btf, typeId, name, AnonymousBody, NameOf);

    private string DeclarationOf(int id, string name) => Declaration(id, name);

    /// <summary>An anonymous body as a string: only for the rare anonymous type inside a function prototype's parameters.</summary>
    private string AnonymousBody(BtfType t)
    {
        TextWriter saved = _w;
        var text = new StringWriter();
        _w = text;
        try
        {
            if (t.Kind is BtfKind.Enum or BtfKind.Enum64)
            {
                WriteEnumBody(t);
            }
            else
            {
                WriteCompositeBody(t);
            }
        }
        finally
        {
            _w = saved;
        }
        return text.ToString();
    }

    /// <summary>Writes "qualifiers base declarator", streaming an anonymous struct/union/enum body in place.</summary>
    private void WriteDeclaration(int typeId, string name)
    {
        (string qualifiers, BtfType baseType, string declarator) = BtfDeclaration.Split(_btf, typeId, name, AnonymousBody, NameOf);
        _w.Write(qualifiers);
        WriteBaseName(baseType);
        if (declarator.Length > 0)
        {
            _w.Write(' ');
            _w.Write(declarator);
        }
    }

    private void WriteBaseName(BtfType t)
    {
        switch (t.Kind)
        {
            case BtfKind.Struct or BtfKind.Union:
                _w.Write(t.Kind == BtfKind.Union ? "union " : "struct ");
                if (t.Name.Length > 0)
                {
                    _w.Write(NameOf(t));
                }
                else
                {
                    WriteCompositeBody(t);
                }
                break;
            case BtfKind.Enum or BtfKind.Enum64:
                _w.Write("enum ");
                if (t.Name.Length > 0)
                {
                    _w.Write(NameOf(t));
                }
                else
                {
                    WriteEnumBody(t);
                }
                break;
            default:
                _w.Write(BtfDeclaration.BaseName(t, null, NameOf));
                break;
        }
    }

    private void WriteCompositeBody(BtfType t)
    {
        _indent++;
        try
        {
            bool packed = _btf.IsPacked(t);
            if (t.Kind != BtfKind.Union && !StructMembers(t, packed, emit: false))
            {
                packed = true;
                StructMembers(t, true, emit: false); // throws when even packed cannot express the offsets
            }
            _w.Write("{\n");
            if (t.Kind == BtfKind.Union)
            {
                UnionMembers(t);
            }
            else
            {
                StructMembers(t, packed, emit: true);
            }
            Tabs(_indent - 1);
            _w.Write('}');
            if (packed)
            {
                _w.Write(" __attribute__((packed))");
            }
        }
        finally
        {
            _indent--;
        }
    }

    private void UnionMembers(BtfType t)
    {
        long largest = 0;
        int align = 1;
        foreach (BtfMember m in t.Members)
        {
            (uint bits, _) = Bitfield(t, m);
            Line();
            WriteDeclaration(m.TypeId, m.Name);
            WriteBits(bits);
            _w.Write(";\n");
            largest = Math.Max(largest, _btf.SizeOf(m.TypeId));
            align = Math.Max(align, _btf.AlignOf(m.TypeId));
        }
        long natural = (largest + align - 1) / align * align;
        if (t.Size > natural)
        {
            Line();
            _w.Write("char __kscope_pad[");
            WriteNumber(t.Size);
            _w.Write("];\n");
        }
    }

    /// <summary>
    /// Lays out (and with <paramref name="emit"/> writes) the members with padding where needed. False when C
    /// would place a member later than BTF says (it needs packed); never false when emitting.
    /// </summary>
    private bool StructMembers(BtfType t, bool packed, bool emit)
    {
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
                return packed ? Fail(t) : false;
            }
            if (emit)
            {
                if (bitOffset > natural)
                {
                    Pad(cursor, bitOffset);
                }
                Line();
                WriteDeclaration(m.TypeId, m.Name);
                WriteBits(bits);
                _w.Write(";\n");
            }
            cursor = bitOffset + (bits != 0 ? bits : size * 8);
            maxAlign = Math.Max(maxAlign, align);
        }
        long end = packed ? (cursor + 7) / 8 * 8 : (cursor + maxAlign * 8L - 1) / (maxAlign * 8L) * (maxAlign * 8L);
        long sizeBits = t.Size * 8L;
        if (end > sizeBits)
        {
            return packed ? Fail(t) : false;
        }
        if (emit && end < sizeBits)
        {
            Pad(cursor, sizeBits);
        }
        return true;
    }

    private bool Fail(BtfType t) => throw new MalformedDataException("BTF", _btf.OffsetOf(t.Id), $"type {t.Id} '{t.Name}': member offsets cannot be expressed in C");

    private (uint Bits, long BitOffset) Bitfield(BtfType t, BtfMember m)
    {
        if (m.BitfieldSize != 0 || t.HasBitfieldEncoding)
        {
            return (m.BitfieldSize, m.BitOffset);
        }
        int r = _btf.Resolve(m.TypeId);
        if (_btf.GetKind(r) == BtfKind.Int)
        {
            BtfType resolved = _btf.ReadTypeHeader(r);
            if (resolved.Int.Bits < resolved.Size * 8)
            {
                return (resolved.Int.Bits, m.BitOffset + resolved.Int.BitOffset);
            }
        }
        return (0, m.BitOffset);
    }

    private void Pad(long from, long to)
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
            Line();
            _w.Write(type);
            _w.Write(": ");
            WriteNumber(bits);
            _w.Write(";\n");
            cursor += bits;
        }
    }

    private void WriteEnumBody(BtfType t)
    {
        _indent++;
        try
        {
            _w.Write("{\n");
            string[] names = EnumeratorNames(t);
            for (int i = 0; i < t.EnumValues.Count; i++)
            {
                BtfEnumValue v = t.EnumValues[i];
                Line();
                _w.Write(names[i]);
                _w.Write(" = ");
                if (t.Kind == BtfKind.Enum64)
                {
                    if (t.IsSigned)
                    {
                        WriteNumber(v.Value);
                        _w.Write("LL");
                    }
                    else
                    {
                        WriteNumber(v.UnsignedValue);
                        _w.Write("ULL");
                    }
                }
                else if (t.IsSigned)
                {
                    WriteNumber((int)v.Value);
                }
                else
                {
                    WriteNumber((uint)v.Value);
                    if (v.Value > int.MaxValue || v.Value < 0)
                    {
                        _w.Write('U');
                    }
                }
                _w.Write(",\n");
            }
            Tabs(_indent - 1);
            _w.Write('}');
            if (t.Size is 1 or 2)
            {
                _w.Write(" __attribute__((packed))");
            }
        }
        finally
        {
            _indent--;
        }
    }

    private void WriteBits(uint bits)
    {
        if (bits != 0)
        {
            _w.Write(": ");
            WriteNumber(bits);
        }
    }

    /// <summary>Invariant decimal digits without a string per number.</summary>
    private void WriteNumber<T>(T value) where T : ISpanFormattable
    {
        Span<char> digits = stackalloc char[24];
        value.TryFormat(digits, out int n, default, System.Globalization.CultureInfo.InvariantCulture);
        _w.Write(digits[..n]);
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

    private void Line() => Tabs(_indent);

    private void Tabs(int count)
    {
        for (int i = 0; i < count; i++)
        {
            _w.Write('\t');
        }
    }
}
