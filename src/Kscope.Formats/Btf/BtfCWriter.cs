using System.Globalization;
using System.Text;

namespace Kscope.Formats.Btf;

/// <summary>
/// Writes BTF types as C a compiler accepts (like <c>bpftool btf dump … format c</c>): dependencies
/// first, forward declarations for types only pointed to, anonymous types inline, duplicate names
/// suffixed "___2", explicit padding (anonymous bitfields) and <c>__attribute__((packed))</c> where
/// the BTF offsets are not where C would put the members, so sizeof/offsetof match the kernel.
/// </summary>
/// <remarks>
/// Built for a whole vmlinux.h (~126 000 types) in one pass: it reads the raw type records (no <see cref="BtfType"/>,
/// no string per name), copies names as UTF-8 straight from the string section into a 64 KiB output buffer that is
/// flushed as it fills (nothing written is ever revisited), keeps its state in arrays indexed by type id (written,
/// forwarded, name suffix, size, alignment), and deduplicates names by their bytes in two small hash tables (struct,
/// union and enum tags; typedefs and enumerators). Malformed BTF gives <see cref="MalformedDataException"/>.
/// </remarks>
public sealed class BtfCWriter
{
    private const int MaxDepth = 10_000;
    private const int MaxDeclarationDepth = 64;
    private const long MaxBitfieldPadding = 4096;
    private const int BufferSize = 1 << 16;
    private readonly Btf _btf;
    private readonly byte[] _state;          // 0 none, 1 in progress, 2 written
    private readonly bool[] _forwarded;
    private readonly int[] _suffix;          // name deduplication: 0 not named yet, 1 the name as is, n > 1 "name___n"
    private readonly int[]?[] _enumSuffix;   // the same per enumerator, per enum
    private readonly long[] _size;           // sizeof + 1 (0: not computed)
    private readonly byte[] _align;          // alignment (0: not computed)
    private readonly bool[] _inBody;         // an anonymous body being written in place (cycle check)
    private readonly NameCounts _tags;
    private readonly NameCounts _idents;
    private readonly List<Declarator> _declarators = [];
    private readonly List<Sink> _scratch = [];
    private Sink _out = Sink.Growing(16);
    private int _level;
    private int _depth;
    private int _indent;

    public BtfCWriter(Btf btf)
    {
        _btf = btf;
        int n = btf.TypeCount;
        _state = new byte[n];
        _forwarded = new bool[n];
        _suffix = new int[n];
        _enumSuffix = new int[]?[n];
        _size = new long[n];
        _align = new byte[n];
        _inBody = new bool[n];
        _tags = new NameCounts(btf);
        _idents = new NameCounts(btf);
    }

    /// <summary>C for the named types and everything they need, or for every type when <paramref name="roots"/> is empty.</summary>
    public string Write(IReadOnlyList<int> roots, bool header = true)
    {
        var text = new StringWriter();
        Write(text, roots, header);
        return text.ToString();
    }

    /// <summary>Streams C for the named types and everything they need (every type when <paramref name="roots"/> is empty) to <paramref name="output"/>.</summary>
    public void Write(TextWriter output, IReadOnlyList<int> roots, bool header = true) => Write(Sink.To(output), roots, header);

    /// <summary>Streams C as UTF-8 to <paramref name="output"/> (e.g. stdout), in 64 KiB writes.</summary>
    public void Write(Stream output, IReadOnlyList<int> roots, bool header = true) => Write(Sink.To(output), roots, header);

    /// <summary>The C name used for a struct/union/enum/typedef (after deduplication), e.g. for sizeof in asserts.</summary>
    public string CName(int id)
    {
        Sink saved = _out;
        _out = Sink.Growing(64);
        try
        {
            WriteDeclaration(id, default, 0, 0);
            return Encoding.UTF8.GetString(_out.Written);
        }
        finally
        {
            _out = saved;
        }
    }

    private void Write(Sink sink, IReadOnlyList<int> roots, bool header)
    {
        _out = sink;
        try
        {
            if (header)
            {
                W("#ifndef __KSCOPE_BTF_H__\n#define __KSCOPE_BTF_H__\n\n"u8);
                W("#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n#endif\n\n"u8);
            }
            if (roots.Count == 0)
            {
                bool[] referenced = ReferencedAnonymous();
                for (int id = 1; id < _btf.TypeCount; id++)
                {
                    switch (_btf.GetKind(id))
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
                        case BtfKind.Typedef or BtfKind.Forward:
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
                W("#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n#endif\n\n#endif /* __KSCOPE_BTF_H__ */\n"u8);
            }
        }
        finally
        {
            sink.Flush();
            _out = Sink.Growing(16);
        }
    }

    // Type ids something refers to: an anonymous enum that is referenced is written where it is used, not on its own.
    private bool[] ReferencedAnonymous()
    {
        var referenced = new bool[_btf.TypeCount];
        for (int id = 1; id < _btf.TypeCount; id++)
        {
            Btf owner = _btf.Locate(id, out int at);
            uint info = owner.Word(at + 4);
            int vlen = (int)(info & 0xffff);
            switch ((BtfKind)((info >> 24) & 0x1f))
            {
                case BtfKind.Struct or BtfKind.Union:
                    for (int i = 0, p = at + 12; i < vlen; i++, p += 12)
                    {
                        referenced[owner.RefAt(p + 4, id)] = true;
                    }
                    break;
                case BtfKind.Array:
                    referenced[owner.RefAt(at + 12, id)] = true;
                    owner.RefAt(at + 16, id);
                    break;
                case BtfKind.FuncProto:
                    referenced[owner.RefAt(at + 8, id)] = true;
                    for (int i = 0, p = at + 12; i < vlen; i++, p += 8)
                    {
                        referenced[owner.RefAt(p + 4, id)] = true;
                    }
                    break;
                case BtfKind.Pointer or BtfKind.Typedef or BtfKind.Const or BtfKind.Volatile or BtfKind.Restrict or BtfKind.TypeTag or BtfKind.Var:
                    referenced[owner.RefAt(at + 8, id)] = true;
                    break;
            }
        }
        return referenced;
    }

    private void Enter(int id)
    {
        if (++_depth > MaxDepth)
        {
            throw new MalformedDataException(Btf.Format, _btf.OffsetOf(id), $"type {id}: dependencies nest deeper than {MaxDepth}");
        }
    }

    /// <summary>The type must be complete here (used by value).</summary>
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
                        MemberDependencies(id);
                    }
                    else if (_state[id] == 0)
                    {
                        DefineComposite(id);
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
                            W("enum "u8);
                            WriteEnumBody(id);
                            W(";\n\n"u8);
                        }
                    }
                    else
                    {
                        _state[id] = 2;
                        W("enum "u8);
                        WriteTypeName(id);
                        _out.Byte((byte)' ');
                        WriteEnumBody(id);
                        W(";\n\n"u8);
                    }
                    break;
                case BtfKind.Typedef:
                    if (_state[id] == 0)
                    {
                        EmitTypedef(id);
                    }
                    EnsureDefined(_btf.TypeIdOf(id));
                    break;
                case BtfKind.Const or BtfKind.Volatile or BtfKind.Restrict or BtfKind.TypeTag or BtfKind.Var or BtfKind.Func:
                    EnsureDefined(_btf.TypeIdOf(id));
                    break;
                case BtfKind.Array:
                    EnsureDefined(ArrayElement(id));
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
            BtfKind kind = _btf.GetKind(id);
            switch (kind)
            {
                case BtfKind.Struct or BtfKind.Union or BtfKind.Forward:
                    if (_btf.IsAnonymous(id))
                    {
                        MemberDependencies(id);
                    }
                    else if (_state[id] != 2 && !_forwarded[id])
                    {
                        _forwarded[id] = true;
                        W(kind == BtfKind.Union || kind == BtfKind.Forward && KindFlag(id) ? "union "u8 : "struct "u8);
                        WriteTypeName(id);
                        W(";\n\n"u8);
                    }
                    break;
                case BtfKind.Enum or BtfKind.Enum64:
                    EnsureDefined(id);
                    break;
                case BtfKind.Typedef:
                    if (_state[id] == 0)
                    {
                        EmitTypedef(id);
                    }
                    break;
                case BtfKind.Pointer or BtfKind.Const or BtfKind.Volatile or BtfKind.Restrict or BtfKind.TypeTag:
                    EnsureDeclared(_btf.TypeIdOf(id));
                    break;
                case BtfKind.Array:
                    EnsureDefined(ArrayElement(id));
                    break;
                case BtfKind.FuncProto:
                    if (_state[id] == 0)
                    {
                        // Declaring a prototype's types once declares them for good: later references skip it.
                        Btf owner = _btf.Locate(id, out int at);
                        EnsureDeclared(owner.RefAt(at + 8, id));
                        int vlen = (int)(owner.Word(at + 4) & 0xffff);
                        for (int i = 0, p = at + 12; i < vlen; i++, p += 8)
                        {
                            EnsureDeclared(owner.RefAt(p + 4, id));
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

    private void EmitTypedef(int id)
    {
        if (_state[id] != 0)
        {
            return;
        }
        ReadOnlySpan<byte> name = Name(id, out _);
        if (name.StartsWith("__builtin_"u8))
        {
            _state[id] = 2; // the compiler's own (__builtin_va_list): redefining it is an error
            return;
        }
        _state[id] = 1;
        int target = _btf.TypeIdOf(id);
        if (_btf.GetKind(target) is BtfKind.Struct or BtfKind.Union && _btf.IsAnonymous(target))
        {
            MemberDependencies(target);
        }
        else
        {
            EnsureDeclared(target);
        }
        W("typedef "u8);
        int suffix = Suffix(id, BtfKind.Typedef);
        WriteDeclaration(target, Name(id, out _), suffix, 0);
        W(";\n\n"u8);
        _state[id] = 2;
    }

    private void MemberDependencies(int id)
    {
        if (_state[id] == 1)
        {
            return; // cyclic by value: invalid in C, the BTF is malformed; stop here
        }
        byte previous = _state[id];
        _state[id] = 1;
        Btf owner = _btf.Locate(id, out int at);
        uint info = owner.Word(at + 4);
        if ((BtfKind)((info >> 24) & 0x1f) is BtfKind.Struct or BtfKind.Union)
        {
            int vlen = (int)(info & 0xffff);
            for (int i = 0, p = at + 12; i < vlen; i++, p += 12)
            {
                EnsureDefined(owner.RefAt(p + 4, id));
            }
        }
        _state[id] = previous;
    }

    private void DefineComposite(int id)
    {
        if (_state[id] != 0)
        {
            return;
        }
        _state[id] = 1;
        Btf owner = _btf.Locate(id, out int at);
        uint info = owner.Word(at + 4);
        int vlen = (int)(info & 0xffff);
        for (int i = 0, p = at + 12; i < vlen; i++, p += 12)
        {
            EnsureDefined(owner.RefAt(p + 4, id));
        }
        W((BtfKind)((info >> 24) & 0x1f) == BtfKind.Union ? "union "u8 : "struct "u8);
        WriteTypeName(id);
        _out.Byte((byte)' ');
        WriteCompositeBody(id);
        W(";\n\n"u8);
        _state[id] = 2;
    }

    // ---- declarations: "qualifiers base declarator", e.g. "const struct x *name[4]" ----

    /// <summary>
    /// Writes the declaration of <paramref name="name"/> (with its dedup <paramref name="suffix"/>) as type
    /// <paramref name="typeId"/>, streaming an anonymous struct/union/enum body in place. The declarator is built
    /// inside out (pointers prepend, arrays and parameter lists append) before the base type is written, so names in
    /// parameter lists are deduplicated before the base type's, as C reads them.
    /// </summary>
    private void WriteDeclaration(int typeId, ReadOnlySpan<byte> name, int suffix, int depth)
    {
        if (_level == _declarators.Count)
        {
            _declarators.Add(new Declarator());
            _scratch.Add(Sink.Growing(256));
        }
        Declarator d = _declarators[_level];
        _level++;
        try
        {
            d.Reset();
            d.Append(name);
            if (suffix > 1)
            {
                d.Append("___"u8);
                d.AppendNumber((uint)suffix);
            }
            int baseId = Parts(typeId, d, out int baseQualifiers, depth);
            for (int q = baseQualifiers; q != 0; q >>= 2)
            {
                W(QualifierText(q & 3));
            }
            WriteBaseName(baseId);
            if (d.Length > 0)
            {
                _out.Byte((byte)' ');
                _out.Write(d.Written);
            }
        }
        finally
        {
            _level--;
        }
    }

    private int Parts(int typeId, Declarator d, out int baseQualifiers, int depth)
    {
        int id = typeId;
        int pending = 0;  // a qualifier of a pointer ("char * const p"): written after the star
        baseQualifiers = 0; // qualifiers of the base type (or of array elements), in order, 2 bits each
        int baseCount = 0;
        for (; ; depth++)
        {
            if (depth > MaxDeclarationDepth)
            {
                throw new MalformedDataException(Btf.Format, _btf.OffsetOf(typeId), $"type {typeId}: declaration nests deeper than {MaxDeclarationDepth} (cyclic?)");
            }
            BtfKind kind = _btf.GetKind(id);
            switch (kind)
            {
                case BtfKind.Pointer:
                {
                    int next = _btf.TypeIdOf(id);
                    BtfKind target = BtfDeclaration.SkipQualifiers(_btf, next);
                    PrependQualifier(d, ref pending);
                    d.Prepend("*"u8);
                    if (target is BtfKind.Array or BtfKind.FuncProto)
                    {
                        d.Prepend("("u8);
                        d.Append(")"u8);
                    }
                    id = next;
                    continue;
                }
                case BtfKind.Const or BtfKind.Volatile or BtfKind.Restrict:
                {
                    int q = kind switch { BtfKind.Const => 1, BtfKind.Volatile => 2, _ => 3 };
                    int next = _btf.TypeIdOf(id);
                    if (_btf.GetKind(next) == BtfKind.Pointer)
                    {
                        pending = q; // the pointer right after consumes it
                    }
                    else if (!HasQualifier(baseQualifiers, baseCount, q))
                    {
                        // On a base type, or on an array (where C applies it to the elements).
                        baseQualifiers |= q << (2 * baseCount++);
                    }
                    id = next;
                    continue;
                }
                case BtfKind.TypeTag:
                    id = _btf.TypeIdOf(id);
                    continue;
                case BtfKind.Array:
                {
                    Btf owner = _btf.Locate(id, out int at);
                    int element = owner.RefAt(at + 12, id);
                    owner.RefAt(at + 16, id);
                    PrependQualifier(d, ref pending);
                    d.Append("["u8);
                    d.AppendNumber(owner.Word(at + 20));
                    d.Append("]"u8);
                    id = element;
                    continue;
                }
                case BtfKind.FuncProto:
                {
                    Btf owner = _btf.Locate(id, out int at);
                    int returns = owner.RefAt(at + 8, id);
                    int vlen = (int)(owner.Word(at + 4) & 0xffff);
                    PrependQualifier(d, ref pending);
                    d.Append("("u8);
                    if (vlen == 0)
                    {
                        d.Append("void"u8);
                    }
                    for (int i = 0, p = at + 12; i < vlen; i++, p += 8)
                    {
                        if (i > 0)
                        {
                            d.Append(", "u8);
                        }
                        int parameter = owner.RefAt(p + 4, id);
                        if (parameter == 0 && i == vlen - 1)
                        {
                            d.Append("..."u8);
                        }
                        else
                        {
                            d.Append(Rendered(parameter, depth + 1));
                        }
                    }
                    d.Append(")"u8);
                    id = returns;
                    continue;
                }
                default:
                    PrependQualifier(d, ref pending);
                    return id;
            }
        }
    }

    /// <summary>A parameter's declaration (no name), rendered aside: it goes inside the declarator being built.</summary>
    private ReadOnlySpan<byte> Rendered(int typeId, int depth)
    {
        Sink scratch = _scratch[_level - 1];
        Sink saved = _out;
        _out = scratch;
        scratch.Clear();
        try
        {
            WriteDeclaration(typeId, default, 0, depth);
        }
        finally
        {
            _out = saved;
        }
        return scratch.Written;
    }

    private static void PrependQualifier(Declarator d, ref int pending)
    {
        if (pending != 0)
        {
            d.Prepend(QualifierText(pending));
            pending = 0;
        }
    }

    private static bool HasQualifier(int qualifiers, int count, int q)
    {
        for (int i = 0; i < count; i++)
        {
            if (((qualifiers >> (2 * i)) & 3) == q)
            {
                return true;
            }
        }
        return false;
    }

    private static ReadOnlySpan<byte> QualifierText(int q) => q switch { 1 => "const "u8, 2 => "volatile "u8, _ => "restrict "u8 };


    /// <summary>"struct x", "union {…}" (the body in place), "enum e", a typedef or base type name, "void".</summary>
    private void WriteBaseName(int id)
    {
        BtfKind kind = _btf.GetKind(id);
        switch (kind)
        {
            case BtfKind.Void:
                W("void"u8);
                break;
            case BtfKind.Struct or BtfKind.Union:
                W(kind == BtfKind.Union ? "union "u8 : "struct "u8);
                if (Name(id, out _).Length > 0)
                {
                    WriteTypeName(id);
                }
                else
                {
                    WriteCompositeBody(id);
                }
                break;
            case BtfKind.Enum or BtfKind.Enum64:
                W("enum "u8);
                if (Name(id, out _).Length > 0)
                {
                    WriteTypeName(id);
                }
                else
                {
                    WriteEnumBody(id);
                }
                break;
            case BtfKind.Forward:
                W(KindFlag(id) ? "union "u8 : "struct "u8);
                W(Name(id, out _));
                break;
            case BtfKind.Typedef:
                WriteTypeName(id);
                break;
            default:
                W(Name(id, out _));
                break;
        }
    }

    // ---- bodies ----

    private void WriteCompositeBody(int id)
    {
        // An anonymous body is written in place, so one that reaches itself (a member pointing back to the
        // anonymous struct) would be written forever: bpftool's "unsatisfiable type cycle". Nesting is bounded too,
        // or a long chain of anonymous structs would overflow the stack.
        if (_inBody[id])
        {
            throw new MalformedDataException(Btf.Format, _btf.OffsetOf(id), $"type {id}: anonymous {(_btf.GetKind(id) == BtfKind.Union ? "union" : "struct")} contains itself (unsatisfiable type cycle)");
        }
        if (_indent >= MaxDeclarationDepth)
        {
            throw new MalformedDataException(Btf.Format, _btf.OffsetOf(id), $"type {id}: anonymous types nest deeper than {MaxDeclarationDepth}");
        }
        _inBody[id] = true;
        _indent++;
        try
        {
            Btf owner = _btf.Locate(id, out int at);
            bool union = _btf.GetKind(id) == BtfKind.Union;
            bool packed = IsPacked(owner, at, id);
            if (!union && !StructMembers(owner, at, id, packed, emit: false))
            {
                packed = true;
                StructMembers(owner, at, id, true, emit: false); // throws when even packed cannot express the offsets
            }
            W("{\n"u8);
            if (union)
            {
                UnionMembers(owner, at, id);
            }
            else
            {
                StructMembers(owner, at, id, packed, emit: true);
            }
            Tabs(_indent - 1);
            _out.Byte((byte)'}');
            if (packed)
            {
                W(" __attribute__((packed))"u8);
            }
        }
        finally
        {
            _indent--;
            _inBody[id] = false;
        }
    }

    // struct btf_member { u32 name_off; u32 type; u32 offset (kind_flag: bitfield size << 24 | bit offset); }
    private static (int Type, uint BitOffset, uint BitfieldSize) Member(Btf owner, int p, bool kindFlag, int referrer)
    {
        int type = owner.RefAt(p + 4, referrer);
        uint offset = owner.Word(p + 8);
        return kindFlag ? (type, offset & 0xffffff, offset >> 24) : (type, offset, 0);
    }

    private bool IsPacked(Btf owner, int at, int id)
    {
        uint info = owner.Word(at + 4);
        int vlen = (int)(info & 0xffff);
        bool kindFlag = (info >> 31) != 0;
        int max = 1;
        for (int i = 0, p = at + 12; i < vlen; i++, p += 12)
        {
            (int type, uint bitOffset, uint bitfieldSize) = Member(owner, p, kindFlag, id);
            int a = Align(type);
            if (bitfieldSize == 0 && bitOffset % (8 * (uint)a) != 0)
            {
                return true;
            }
            max = Math.Max(max, a);
        }
        return owner.Word(at + 8) % (uint)max != 0;
    }

    private void UnionMembers(Btf owner, int at, int id)
    {
        uint info = owner.Word(at + 4);
        int vlen = (int)(info & 0xffff);
        bool kindFlag = (info >> 31) != 0;
        long largest = 0;
        int align = 1;
        for (int i = 0, p = at + 12; i < vlen; i++, p += 12)
        {
            (int type, uint bitOffset, uint bitfieldSize) = Member(owner, p, kindFlag, id);
            (uint bits, _) = Bitfield(kindFlag, type, bitOffset, bitfieldSize);
            Line();
            WriteDeclaration(type, MemberName(owner, p), 0, 0);
            WriteBits(bits);
            W(";\n"u8);
            largest = Math.Max(largest, Size(type));
            align = Math.Max(align, Align(type));
        }
        long natural = (largest + align - 1) / align * align;
        uint size = owner.Word(at + 8);
        if (size > natural)
        {
            Line();
            W("char __kscope_pad["u8);
            _out.Number(size);
            W("];\n"u8);
        }
    }

    /// <summary>
    /// Lays out (and with <paramref name="emit"/> writes) the members with padding where needed. False when C
    /// would place a member later than BTF says (it needs packed); never false when emitting.
    /// </summary>
    private bool StructMembers(Btf owner, int at, int id, bool packed, bool emit)
    {
        uint info = owner.Word(at + 4);
        int vlen = (int)(info & 0xffff);
        bool kindFlag = (info >> 31) != 0;
        long cursor = 0;
        int maxAlign = 1;
        for (int i = 0, p = at + 12; i < vlen; i++, p += 12)
        {
            (int type, uint memberOffset, uint bitfieldSize) = Member(owner, p, kindFlag, id);
            (uint bits, long bitOffset) = Bitfield(kindFlag, type, memberOffset, bitfieldSize);
            long size = Size(type);
            int align = packed ? 1 : Align(type);
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
                return packed ? Fail(id) : false;
            }
            if (emit)
            {
                if (bitOffset > natural)
                {
                    Pad(cursor, bitOffset);
                }
                Line();
                WriteDeclaration(type, MemberName(owner, p), 0, 0);
                WriteBits(bits);
                W(";\n"u8);
            }
            cursor = bitOffset + (bits != 0 ? bits : size * 8);
            maxAlign = Math.Max(maxAlign, align);
        }
        long end = packed ? (cursor + 7) / 8 * 8 : (cursor + maxAlign * 8L - 1) / (maxAlign * 8L) * (maxAlign * 8L);
        long sizeBits = owner.Word(at + 8) * 8L;
        if (end > sizeBits)
        {
            return packed ? Fail(id) : false;
        }
        if (emit && end < sizeBits)
        {
            Pad(cursor, sizeBits);
        }
        return true;
    }

    private bool Fail(int id) =>
        throw new MalformedDataException(Btf.Format, _btf.OffsetOf(id), $"type {id} '{_btf.GetName(id)}': member offsets cannot be expressed in C");

    private (uint Bits, long BitOffset) Bitfield(bool kindFlag, int type, uint bitOffset, uint bitfieldSize)
    {
        if (bitfieldSize != 0 || kindFlag)
        {
            return (bitfieldSize, bitOffset);
        }
        int r = _btf.Resolve(type);
        if (_btf.GetKind(r) == BtfKind.Int)
        {
            // u32 after an INT: encoding << 24 | bit offset << 16 | bits
            Btf owner = _btf.Locate(r, out int at);
            uint encoding = owner.Word(at + 12);
            uint bits = encoding & 0xff;
            if (bits < owner.Word(at + 8) * 8L)
            {
                return (bits, bitOffset + ((encoding >> 16) & 0xff));
            }
        }
        return (0, bitOffset);
    }

    /// <summary>
    /// Padding as bpftool writes it (anonymous bitfields of at most 64 bits), except that a gap of more than
    /// <see cref="MaxBitfieldPadding"/> bytes takes one array line: a struct claiming 4 GiB is one line, not
    /// 500 million (the output stays proportional to the input).
    /// </summary>
    private void Pad(long from, long to)
    {
        long cursor = from;
        long firstByte = (cursor + 7) / 8;
        long lastByte = to / 8;
        if (lastByte - firstByte > MaxBitfieldPadding)
        {
            Pad(cursor, firstByte * 8);
            Line();
            W("char __kscope_pad_"u8);
            _out.Number(firstByte);
            _out.Byte((byte)'[');
            _out.Number(lastByte - firstByte);
            W("];\n"u8);
            cursor = lastByte * 8;
        }
        while (cursor < to)
        {
            long gap = to - cursor;
            long bits = cursor % 8 != 0 ? Math.Min(gap, 8 - cursor % 8)
                : cursor % 64 == 0 && gap >= 64 ? 64
                : cursor % 32 == 0 && gap >= 32 ? 32
                : cursor % 16 == 0 && gap >= 16 ? 16
                : gap >= 8 ? 8
                : gap;
            Line();
            W(cursor % 8 != 0 || bits < 8 ? "unsigned char"u8 : bits switch { 64 => "long"u8, 32 => "int"u8, 16 => "short"u8, _ => "char"u8 });
            W(": "u8);
            _out.Number(bits);
            W(";\n"u8);
            cursor += bits;
        }
    }

    // struct btf_enum { u32 name_off; s32 val; } / struct btf_enum64 { u32 name_off; u32 val_lo32; u32 val_hi32; }
    private void WriteEnumBody(int id)
    {
        _indent++;
        try
        {
            W("{\n"u8);
            Btf owner = _btf.Locate(id, out int at);
            uint info = owner.Word(at + 4);
            int vlen = (int)(info & 0xffff);
            bool signed = (info >> 31) != 0;
            bool enum64 = (BtfKind)((info >> 24) & 0x1f) == BtfKind.Enum64;
            int stride = enum64 ? 12 : 8;
            int[] suffixes = _enumSuffix[id] ??= EnumeratorSuffixes(owner, at, vlen, stride);
            for (int i = 0, p = at + 12; i < vlen; i++, p += stride)
            {
                Line();
                W(MemberName(owner, p));
                if (suffixes[i] > 1)
                {
                    W("___"u8);
                    _out.Number(suffixes[i]);
                }
                W(" = "u8);
                uint low = owner.Word(p + 4);
                if (enum64)
                {
                    ulong raw = low | ((ulong)owner.Word(p + 8) << 32);
                    if (signed)
                    {
                        _out.Number((long)raw);
                        W("LL"u8);
                    }
                    else
                    {
                        _out.Number(raw);
                        W("ULL"u8);
                    }
                }
                else if (signed)
                {
                    _out.Number((int)low);
                }
                else
                {
                    _out.Number(low);
                    if (low > int.MaxValue)
                    {
                        _out.Byte((byte)'U');
                    }
                }
                W(",\n"u8);
            }
            Tabs(_indent - 1);
            _out.Byte((byte)'}');
            if (owner.Word(at + 8) is 1 or 2)
            {
                W(" __attribute__((packed))"u8);
            }
        }
        finally
        {
            _indent--;
        }
    }

    private int[] EnumeratorSuffixes(Btf owner, int at, int vlen, int stride)
    {
        var suffixes = new int[vlen];
        for (int i = 0, p = at + 12; i < vlen; i++, p += stride)
        {
            uint nameOff = owner.Word(p);
            suffixes[i] = _idents.Next(nameOff, owner.GetStringBytes(nameOff, owner.TypesOffset(p)));
        }
        return suffixes;
    }

    private void WriteBits(uint bits)
    {
        if (bits != 0)
        {
            W(": "u8);
            _out.Number(bits);
        }
    }

    // ---- names, sizes ----

    private static ReadOnlySpan<byte> MemberName(Btf owner, int p) => owner.GetStringBytes(owner.Word(p), owner.TypesOffset(p));

    private ReadOnlySpan<byte> Name(int id, out uint nameOff)
    {
        Btf owner = _btf.Locate(id, out int at);
        nameOff = owner.Word(at);
        return owner.GetStringBytes(nameOff, owner.TypesOffset(at));
    }

    private bool KindFlag(int id)
    {
        Btf owner = _btf.Locate(id, out int at);
        return (owner.Word(at + 4) >> 31) != 0;
    }

    /// <summary>The dedup suffix of a struct/union/enum (tags) or typedef (identifiers) name, assigned on first use.</summary>
    private int Suffix(int id, BtfKind kind)
    {
        int suffix = _suffix[id];
        if (suffix == 0)
        {
            ReadOnlySpan<byte> name = Name(id, out uint nameOff);
            if (name.IsEmpty)
            {
                return 1;
            }
            suffix = _suffix[id] = (kind == BtfKind.Typedef ? _idents : _tags).Next(nameOff, name);
        }
        return suffix;
    }

    /// <summary>A struct/union/enum/typedef name after deduplication ("name___2"); forward declarations as they are.</summary>
    private void WriteTypeName(int id)
    {
        BtfKind kind = _btf.GetKind(id);
        ReadOnlySpan<byte> name = Name(id, out _);
        W(name);
        if (kind != BtfKind.Forward && !name.IsEmpty)
        {
            int suffix = Suffix(id, kind);
            if (suffix > 1)
            {
                W("___"u8);
                _out.Number(suffix);
            }
        }
    }

    private int ArrayElement(int id)
    {
        Btf owner = _btf.Locate(id, out int at);
        int element = owner.RefAt(at + 12, id);
        owner.RefAt(at + 16, id);
        return element;
    }

    private long Size(int id)
    {
        long cached = _size[id];
        if (cached == 0)
        {
            cached = _size[id] = _btf.SizeOf(id) + 1;
        }
        return cached - 1;
    }

    private int Align(int id)
    {
        int cached = _align[id];
        if (cached == 0)
        {
            cached = _align[id] = (byte)_btf.AlignOf(id);
        }
        return cached;
    }

    private void W(ReadOnlySpan<byte> bytes) => _out.Write(bytes);

    private void Line() => Tabs(_indent);

    private void Tabs(int count)
    {
        for (int i = 0; i < count; i++)
        {
            _out.Byte((byte)'\t');
        }
    }

    /// <summary>Output bytes: a buffer that a stream or text writer drains as it fills, or that grows (scratch, CName).</summary>
    private sealed class Sink
    {
        private readonly Stream? _stream;
        private readonly TextWriter? _text;
        private readonly Decoder? _decoder;
        private char[]? _chars;
        private byte[] _buffer;
        private int _length;

        private Sink(int capacity, Stream? stream, TextWriter? text)
        {
            _buffer = new byte[capacity];
            _stream = stream;
            _text = text;
            _decoder = text is null ? null : new UTF8Encoding(false).GetDecoder();
        }

        public static Sink To(Stream stream) => new(BufferSize, stream, null);

        public static Sink To(TextWriter text) => new(BufferSize, null, text);

        public static Sink Growing(int capacity) => new(capacity, null, null);

        public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _length);

        public void Clear() => _length = 0;

        public void Byte(byte b)
        {
            if (_length == _buffer.Length)
            {
                MakeRoom(1);
            }
            _buffer[_length++] = b;
        }

        public void Write(ReadOnlySpan<byte> bytes)
        {
            if (_buffer.Length - _length < bytes.Length)
            {
                MakeRoom(bytes.Length);
            }
            bytes.CopyTo(_buffer.AsSpan(_length));
            _length += bytes.Length;
        }

        /// <summary>Invariant decimal digits, no string.</summary>
        public void Number<T>(T value) where T : IUtf8SpanFormattable
        {
            if (_buffer.Length - _length < 24)
            {
                MakeRoom(24);
            }
            value.TryFormat(_buffer.AsSpan(_length), out int n, default, CultureInfo.InvariantCulture);
            _length += n;
        }

        public void Flush()
        {
            if (_length == 0 || _stream is null && _text is null)
            {
                return;
            }
            if (_stream is not null)
            {
                _stream.Write(_buffer, 0, _length);
            }
            else
            {
                if (_chars is null || _chars.Length < _length + 16)
                {
                    _chars = new char[Math.Max(BufferSize, _length) + 16];
                }
                int count = _decoder!.GetChars(_buffer, 0, _length, _chars, 0, flush: false);
                _text!.Write(_chars, 0, count);
            }
            _length = 0;
        }

        private void MakeRoom(int count)
        {
            if (_stream is not null || _text is not null)
            {
                Flush();
                if (count <= _buffer.Length)
                {
                    return;
                }
            }
            System.Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + count));
        }
    }

    /// <summary>A declarator built inside out: pointers and parentheses prepend, arrays and parameter lists append.</summary>
    private sealed class Declarator
    {
        private byte[] _buffer = new byte[512];
        private int _start;
        private int _end;

        public int Length => _end - _start;

        public ReadOnlySpan<byte> Written => _buffer.AsSpan(_start, _end - _start);

        public void Reset() => _start = _end = _buffer.Length / 2;

        public void Prepend(ReadOnlySpan<byte> bytes)
        {
            if (_start < bytes.Length)
            {
                Grow(bytes.Length);
            }
            _start -= bytes.Length;
            bytes.CopyTo(_buffer.AsSpan(_start));
        }

        public void Append(ReadOnlySpan<byte> bytes)
        {
            if (_buffer.Length - _end < bytes.Length)
            {
                Grow(bytes.Length);
            }
            bytes.CopyTo(_buffer.AsSpan(_end));
            _end += bytes.Length;
        }

        public void AppendNumber(uint value)
        {
            Span<byte> digits = stackalloc byte[10];
            value.TryFormat(digits, out int n, default, CultureInfo.InvariantCulture);
            Append(digits[..n]);
        }

        // Room for count more bytes on both sides, the content centred.
        private void Grow(int count)
        {
            int length = Length;
            byte[] larger = new byte[(_buffer.Length + count) * 2];
            int start = (larger.Length - length) / 2;
            Written.CopyTo(larger.AsSpan(start));
            _buffer = larger;
            _start = start;
            _end = start + length;
        }
    }

    /// <summary>How many times each name was used so far (open addressing keyed by the name's bytes; BTF usually stores a name once, so the offset is compared first).</summary>
    private sealed class NameCounts(Btf btf)
    {
        private uint[] _offsets = new uint[4096]; // string offset of the name; 0: empty slot
        private uint[] _hashes = new uint[4096];
        private int[] _counts = new int[4096];
        private int _used;
        private int _empty;

        /// <summary>Counts one more use of the name and returns the count (1 the first time).</summary>
        public int Next(uint nameOff, ReadOnlySpan<byte> name)
        {
            if (name.IsEmpty || nameOff == 0)
            {
                return ++_empty;
            }
            if ((_used + 1) * 2 > _offsets.Length)
            {
                Grow();
            }
            uint hash = Hash(name);
            int mask = _offsets.Length - 1;
            for (int i = (int)(hash & (uint)mask); ; i = (i + 1) & mask)
            {
                uint off = _offsets[i];
                if (off == 0)
                {
                    _offsets[i] = nameOff;
                    _hashes[i] = hash;
                    _counts[i] = 1;
                    _used++;
                    return 1;
                }
                if (_hashes[i] == hash && (off == nameOff || btf.GetStringBytes(off, 0).SequenceEqual(name)))
                {
                    return ++_counts[i];
                }
            }
        }

        private static uint Hash(ReadOnlySpan<byte> name)
        {
            uint h = 2166136261;
            foreach (byte b in name)
            {
                h = (h ^ b) * 16777619;
            }
            return h;
        }

        private void Grow()
        {
            uint[] offsets = _offsets, hashes = _hashes;
            int[] counts = _counts;
            _offsets = new uint[offsets.Length * 2];
            _hashes = new uint[offsets.Length * 2];
            _counts = new int[offsets.Length * 2];
            int mask = _offsets.Length - 1;
            for (int j = 0; j < offsets.Length; j++)
            {
                if (offsets[j] == 0)
                {
                    continue;
                }
                int i = (int)(hashes[j] & (uint)mask);
                while (_offsets[i] != 0)
                {
                    i = (i + 1) & mask;
                }
                _offsets[i] = offsets[j];
                _hashes[i] = hashes[j];
                _counts[i] = counts[j];
            }
        }
    }
}
