using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Text;
using Kscope.Formats.Elf;

namespace Kscope.Formats.Btf;

/// <summary>
/// Raw BTF (the kernel's type information): vmlinux, a module's split BTF over vmlinux, or the .BTF
/// section of an ELF object. Opening reads the header and records where each type starts (one
/// linear pass, no allocation per type); types, names and the name index are materialised on demand.
/// </summary>
/// <remarks>
/// Wire layout (include/uapi/linux/btf.h), either byte order, found from the magic:
/// struct btf_header { u16 magic 0xeB9F; u8 version 1; u8 flags; u32 hdr_len; u32 type_off;
/// u32 type_len; u32 str_off; u32 str_len; } — offsets are relative to the end of the header.
/// The type section is a sequence of struct btf_type { u32 name_off; u32 info (vlen 0-15, kind
/// 24-28, kind_flag 31); u32 size_or_type; } each followed by kind-specific u32 words. Type id 0 is
/// void; ids count up from 1 (from the base's count for split BTF, whose string offsets also
/// continue after the base's string section). Because every field of the type section is a u32,
/// big-endian input is normalised once to little-endian words.
/// Malformed input throws <see cref="MalformedDataException"/> with the byte offset.
/// </remarks>
public sealed partial class Btf
{
    internal const string Format = "BTF";
    public const ushort Magic = 0xeB9F;
    private const int MaxResolveDepth = 64;

    private readonly byte[] _typeBytes;              // the type section (little-endian words) is _typeBytes[_typeBase..]
    private readonly int _typeBase;
    private readonly ReadOnlyMemory<byte> _strings;
    private readonly int[] _offsets;                 // own type i (id FirstTypeId + i) starts at _offsets[i] in _types
    private readonly long _typesAt;                  // absolute offset of the type section in the input
    private readonly long _stringsAt;
    private readonly uint _stringBase;               // first string offset this blob owns (base's str_len for split BTF)
    private readonly BtfType?[] _cache;
    private NameIndex? _index;
    private int[]? _alignCache;
    private readonly Lock _alignLock = new();

    private Btf(Btf? baseBtf, bool bigEndian, ReadOnlyMemory<byte> types, long typesAt, ReadOnlyMemory<byte> strings, long stringsAt, int[] offsets, int count)
    {
        Base = baseBtf;
        BigEndian = bigEndian;
        if (System.Runtime.InteropServices.MemoryMarshal.TryGetArray(types, out ArraySegment<byte> segment))
        {
            _typeBytes = segment.Array!;
            _typeBase = segment.Offset;
        }
        else
        {
            _typeBytes = types.ToArray();
        }
        _typesAt = typesAt;
        _strings = strings;
        _stringsAt = stringsAt;
        _offsets = offsets;
        OwnTypeCount = count;
        FirstTypeId = baseBtf?.TypeCount ?? 1;
        _stringBase = baseBtf?.StringEnd ?? 0;
        _cache = new BtfType?[count];
    }

    /// <summary>The base BTF (vmlinux) of a split BTF, or null.</summary>
    public Btf? Base { get; }

    public bool BigEndian { get; }

    /// <summary>The first type id this blob defines (1, or the base's <see cref="TypeCount"/> for split BTF).</summary>
    public int FirstTypeId { get; }

    /// <summary>Types defined by this blob (not counting void or the base's).</summary>
    public int OwnTypeCount { get; }

    /// <summary>One past the largest valid type id (ids 0 = void .. TypeCount-1).</summary>
    public int TypeCount => FirstTypeId + OwnTypeCount;

    private int _pointerSize;

    /// <summary>
    /// Pointer size used for PTR sizes and alignment. BTF does not record it: unless set, it is the size of
    /// the first integer named <c>long</c> (or its unsigned and <c>long int</c> spellings), as a compiler
    /// for that target laid it out (4 for i386/arm BTF, 8 for the 64-bit kernels and BPF); 8 when the BTF
    /// has no such integer. Split BTF uses its base's.
    /// </summary>
    public int PointerSize
    {
        get => _pointerSize != 0 ? _pointerSize : (_pointerSize = Base?.PointerSize ?? GuessPointerSize());
        init => _pointerSize = value is 4 or 8 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "pointer size must be 4 or 8");
    }

    private int GuessPointerSize()
    {
        foreach (int id in OwnTypeIds)
        {
            if (GetKind(id) == BtfKind.Int
                && GetName(id) is "long" or "unsigned long" or "long int" or "long unsigned int" or "unsigned long int"
                && SizeWord(id) is 4 or 8)
            {
                return (int)SizeWord(id);
            }
        }
        return 8;
    }

    internal uint StringEnd => _stringBase + (uint)_strings.Length;

    /// <summary>The .BTF section of an ELF object or vmlinux image.</summary>
    public static Btf FromElf(ElfFile elf, Btf? baseBtf = null)
    {
        ElfSection section = elf.GetSection(".BTF") ?? throw new MalformedDataException(Format, 0, "the ELF file has no .BTF section");
        return Parse(section.Data, baseBtf, (long)section.Offset);
    }

    /// <summary>Raw BTF or an ELF file holding a .BTF section.</summary>
    public static Btf ParseAny(ReadOnlyMemory<byte> data, Btf? baseBtf = null) =>
        ElfFile.IsElf(data.Span) ? FromElf(ElfFile.Parse(data), baseBtf) : Parse(data, baseBtf);

    public static Btf Parse(ReadOnlyMemory<byte> data, Btf? baseBtf = null, long fileOffset = 0)
    {
        ReadOnlySpan<byte> span = data.Span;
        if (span.Length < 24)
        {
            throw new MalformedDataException(Format, fileOffset + span.Length, $"truncated: {span.Length} bytes, the BTF header needs 24");
        }
        bool bigEndian;
        if (span[0] == 0x9f && span[1] == 0xeb)
        {
            bigEndian = false;
        }
        else if (span[0] == 0xeb && span[1] == 0x9f)
        {
            bigEndian = true;
        }
        else
        {
            throw new MalformedDataException(Format, fileOffset, $"bad magic 0x{span[0]:x2}{span[1]:x2} (want 0xeb9f)");
        }
        var r = new SpanReader(span, Format, bigEndian, fileOffset);
        r.U16();
        byte version = r.U8();
        if (version != 1)
        {
            throw r.Error(2, $"unsupported BTF version {version}");
        }
        r.U8(); // flags
        uint hdrLen = r.U32();
        uint typeOff = r.U32();
        uint typeLen = r.U32();
        uint strOff = r.U32();
        uint strLen = r.U32();
        if (hdrLen < 24 || hdrLen > (uint)span.Length)
        {
            throw r.Error(4, $"header length {hdrLen} outside [24, {span.Length}]");
        }
        ulong dataLen = (ulong)span.Length - hdrLen;
        if ((ulong)typeOff + typeLen > dataLen)
        {
            throw r.Error(8, $"type section [{typeOff}, +{typeLen}) outside the {dataLen}-byte data");
        }
        if ((ulong)strOff + strLen > dataLen)
        {
            throw r.Error(16, $"string section [{strOff}, +{strLen}) outside the {dataLen}-byte data");
        }
        if (typeOff % 4 != 0 || typeLen % 4 != 0)
        {
            throw r.Error(8, $"type section offset {typeOff} or length {typeLen} not a multiple of 4");
        }
        long typesAt = fileOffset + hdrLen + typeOff;
        long stringsAt = fileOffset + hdrLen + strOff;
        ReadOnlyMemory<byte> strings = data.Slice((int)(hdrLen + strOff), (int)strLen);
        if (strLen > 0 && strings.Span[^1] != 0)
        {
            throw new MalformedDataException(Format, stringsAt + strLen - 1, "string section does not end with NUL");
        }
        if (baseBtf is null && (strLen == 0 || strings.Span[0] != 0))
        {
            throw new MalformedDataException(Format, stringsAt, "string section does not start with the empty string");
        }
        if (baseBtf is not null && (ulong)baseBtf.StringEnd + strLen > int.MaxValue)
        {
            throw new MalformedDataException(Format, stringsAt, "string sections too large");
        }

        ReadOnlyMemory<byte> types = data.Slice((int)(hdrLen + typeOff), (int)typeLen);
        if (bigEndian)
        {
            byte[] swapped = types.ToArray();
            Span<uint> words = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, uint>(swapped.AsSpan());
            BinaryPrimitives.ReverseEndianness(words, words); // big-endian bytes -> little-endian bytes, on any host
            types = swapped;
        }
        (int[] offsets, int count) = IndexTypes(types.Span, typesAt, baseBtf?.TypeCount ?? 1);
        return new Btf(baseBtf, bigEndian, types, typesAt, strings, stringsAt, offsets, count);
    }

    /// <summary>One pass recording where each type starts; checks kinds and lengths.</summary>
    private static (int[] Offsets, int Count) IndexTypes(ReadOnlySpan<byte> types, long typesAt, int firstId)
    {
        int[] offsets = new int[Math.Max(16, types.Length / 24)];
        int count = 0;
        int at = 0;
        while (at < types.Length)
        {
            if (types.Length - at < 12)
            {
                throw new MalformedDataException(Format, typesAt + at, $"type {firstId + count}: truncated btf_type ({types.Length - at} bytes left)");
            }
            uint info = BinaryPrimitives.ReadUInt32LittleEndian(types[(at + 4)..]);
            var kind = (BtfKind)((info >> 24) & 0x1f);
            int vlen = (int)(info & 0xffff);
            long extra = kind switch
            {
                BtfKind.Int or BtfKind.Var or BtfKind.DeclTag => 4,
                BtfKind.Array => 12,
                BtfKind.Struct or BtfKind.Union or BtfKind.DataSec or BtfKind.Enum64 => 12L * vlen,
                BtfKind.Enum or BtfKind.FuncProto => 8L * vlen,
                BtfKind.Pointer or BtfKind.Forward or BtfKind.Typedef or BtfKind.Volatile or BtfKind.Const or BtfKind.Restrict
                    or BtfKind.Func or BtfKind.Float or BtfKind.TypeTag => 0,
                _ => throw new MalformedDataException(Format, typesAt + at + 4, $"type {firstId + count}: unknown kind {(int)kind}"),
            };
            if (12 + extra > types.Length - at)
            {
                throw new MalformedDataException(Format, typesAt + at, $"type {firstId + count}: {kind} with vlen {vlen} needs {12 + extra} bytes, {types.Length - at} left");
            }
            if (count == offsets.Length)
            {
                System.Array.Resize(ref offsets, offsets.Length * 2);
            }
            offsets[count++] = at;
            at += 12 + (int)extra;
        }
        if ((long)firstId + count > int.MaxValue / 2)
        {
            throw new MalformedDataException(Format, typesAt, "too many types");
        }
        return (offsets, count);
    }

    /// <summary>Type ids this blob defines, in order (not the base's).</summary>
    public IEnumerable<int> OwnTypeIds => Enumerable.Range(FirstTypeId, OwnTypeCount);

    /// <summary>Every type id 1..TypeCount-1, the base's first.</summary>
    public IEnumerable<int> AllTypeIds => Enumerable.Range(1, TypeCount - 1);

    /// <summary>The type with this id (0 is void, <see cref="BtfKind.Void"/>).</summary>
    public BtfType GetType(int id)
    {
        if (id < FirstTypeId)
        {
            if (Base is not null && id > 0)
            {
                return Base.GetType(id);
            }
            if (id == 0)
            {
                return s_void;
            }
        }
        int local = id - FirstTypeId;
        if ((uint)local >= (uint)OwnTypeCount)
        {
            throw new ArgumentOutOfRangeException(nameof(id), id, $"BTF type id {id} out of range (1..{TypeCount - 1})");
        }
        return _cache[local] ??= Materialise(id, local, shallow: false);
    }

    private static readonly BtfType s_void = new(0, BtfKind.Void, "void", false, 0, 0);

    /// <summary>
    /// The type with this id, materialised WITHOUT keeping it (unless <see cref="GetType(int)"/> already did): for
    /// one-pass walks over all types (a whole vmlinux.h) that would otherwise hold every type, member and name.
    /// </summary>
    public BtfType ReadType(int id) => Read(id, shallow: false);

    /// <summary>
    /// Like <see cref="ReadType"/> but without the variable-length part (members, enumerators, parameters, DATASEC
    /// entries come back empty): kind, name, size or referenced type, INT and ARRAY data. Cheap names for
    /// declarations ("struct sk_buff") without decoding sk_buff's members.
    /// </summary>
    public BtfType ReadTypeHeader(int id) => Read(id, shallow: true);

    private BtfType Read(int id, bool shallow)
    {
        if (id < FirstTypeId)
        {
            if (Base is not null && id > 0)
            {
                return Base.Read(id, shallow);
            }
            if (id == 0)
            {
                return s_void;
            }
        }
        int local = CheckedLocal(id);
        return _cache[local] ?? Materialise(id, local, shallow);
    }

    /// <summary>The type a PTR, TYPEDEF, CONST, VOLATILE, RESTRICT, TYPE_TAG, FUNC, FUNC_PROTO, VAR or DECL_TAG refers to (0 for other kinds), without materialising.</summary>
    public int TypeIdOf(int id)
    {
        if (id == 0)
        {
            return 0;
        }
        if (id < FirstTypeId && Base is not null)
        {
            return Base.TypeIdOf(id);
        }
        int at = _offsets[CheckedLocal(id)];
        if (BtfType.HasSize((BtfKind)((Word(at + 4) >> 24) & 0x1f)))
        {
            return 0;
        }
        uint type = Word(at + 8);
        if (type >= (uint)TypeCount)
        {
            CheckRef(type, _typesAt + at + 8, id);
        }
        return (int)type;
    }

    /// <summary>True when the type has no name (anonymous struct, union, enum; pointers, arrays…), without materialising.</summary>
    public bool IsAnonymous(int id)
    {
        if (id == 0)
        {
            return false;
        }
        if (id < FirstTypeId && Base is not null)
        {
            return Base.IsAnonymous(id);
        }
        return Word(_offsets[CheckedLocal(id)]) == 0;
    }

    // The size word of a sized kind (INT, ENUM, STRUCT…), without materialising.
    private uint SizeWord(int id)
    {
        if (id < FirstTypeId && Base is not null)
        {
            return Base.SizeWord(id);
        }
        return Word(_offsets[CheckedLocal(id)] + 8);
    }

    // struct btf_array { u32 type; u32 index_type; u32 nelems; } after the common header, without materialising.
    private (int Element, uint Count) ArrayOf(int id)
    {
        if (id < FirstTypeId && Base is not null)
        {
            return Base.ArrayOf(id);
        }
        int at = _offsets[CheckedLocal(id)] + 12;
        uint element = Word(at);
        CheckRef(element, _typesAt + at, id);
        return ((int)element, Word(at + 8));
    }

    /// <summary>The kind of a type without materialising it.</summary>
    public BtfKind GetKind(int id)
    {
        if (id >= FirstTypeId)
        {
            return (BtfKind)((Word(_offsets[CheckedLocal(id)] + 4) >> 24) & 0x1f);
        }
        if (id == 0)
        {
            return BtfKind.Void;
        }
        if (Base is not null)
        {
            return Base.GetKind(id);
        }
        return (BtfKind)((Word(_offsets[CheckedLocal(id)] + 4) >> 24) & 0x1f); // throws: below the first id
    }

    /// <summary>The name of a type without materialising it ("" when anonymous).</summary>
    public string GetName(int id)
    {
        if (id == 0)
        {
            return "void";
        }
        if (id < FirstTypeId && Base is not null)
        {
            return Base.GetName(id);
        }
        int local = CheckedLocal(id);
        return GetString(Word(_offsets[local]), _typesAt + _offsets[local]);
    }

    /// <summary>A string from the string section(s) by offset (split BTF: the base's below its length).</summary>
    public string GetString(uint offset) => GetString(offset, _stringsAt);

    internal string GetString(uint offset, long referrer)
    {
        if (offset == 0)
        {
            return "";
        }
        ReadOnlySpan<byte> bytes = GetStringBytes(offset, referrer);
        return Encoding.UTF8.GetString(bytes);
    }

    internal ReadOnlySpan<byte> GetStringBytes(uint offset, long referrer)
    {
        if (offset < _stringBase)
        {
            return Base!.GetStringBytes(offset, referrer);
        }
        uint local = offset - _stringBase;
        ReadOnlySpan<byte> strings = _strings.Span;
        if (local >= (uint)strings.Length)
        {
            throw new MalformedDataException(Format, referrer, $"string offset {offset} outside the string section (ends at {StringEnd})");
        }
        ReadOnlySpan<byte> rest = strings[(int)local..];
        return rest[..rest.IndexOf((byte)0)]; // the section ends with NUL (checked at parse)
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int CheckedLocal(int id)
    {
        int local = id - FirstTypeId;
        if ((uint)local >= (uint)OwnTypeCount)
        {
            ThrowOutOfRange(id);
        }
        return local;
    }

    [DoesNotReturn]
    private void ThrowOutOfRange(int id) =>
        throw new ArgumentOutOfRangeException(nameof(id), id, $"BTF type id {id} out of range (1..{TypeCount - 1})");

    // Every caller passes an offset inside a record IndexTypes checked, so the 4 bytes are in the section: one bounds
    // check on the first byte, no span (this is the hottest read of every type walk).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal uint Word(int at)
    {
        uint v = System.Runtime.CompilerServices.Unsafe.ReadUnaligned<uint>(ref _typeBytes[_typeBase + at]);
        return BitConverter.IsLittleEndian ? v : BinaryPrimitives.ReverseEndianness(v);
    }

    /// <summary>The blob that defines type <paramref name="id"/> (this one or a base) and the byte offset of its record in that blob's type section.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal Btf Locate(int id, out int at)
    {
        if (id >= FirstTypeId)
        {
            at = _offsets[CheckedLocal(id)];
            return this;
        }
        return LocateInBase(id, out at);
    }

    private Btf LocateInBase(int id, out int at)
    {
        Btf b = this;
        while (id < b.FirstTypeId && b.Base is not null)
        {
            b = b.Base;
        }
        at = b._offsets[b.CheckedLocal(id)];
        return b;
    }

    /// <summary>Absolute input offset of byte <paramref name="at"/> of this blob's type section (for error messages).</summary>
    internal long TypesOffset(int at) => _typesAt + at;

    /// <summary>The type id read at type-section byte <paramref name="at"/> of this blob, or the typed error when it is out of range.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal int RefAt(int at, int referrer)
    {
        uint typeId = Word(at);
        if (typeId >= (uint)TypeCount)
        {
            CheckRef(typeId, _typesAt + at, referrer);
        }
        return (int)typeId;
    }

    /// <summary>Absolute input offset of a type record (for error messages).</summary>
    public long OffsetOf(int id) => id < FirstTypeId ? Base?.OffsetOf(id) ?? 0 : _typesAt + _offsets[CheckedLocal(id)];

    private BtfType Materialise(int id, int local, bool shallow)
    {
        int at = _offsets[local];
        long abs = _typesAt + at;
        uint nameOff = Word(at);
        uint info = Word(at + 4);
        uint sizeOrType = Word(at + 8);
        var kind = (BtfKind)((info >> 24) & 0x1f);
        int vlen = (int)(info & 0xffff);
        bool kindFlag = (info >> 31) != 0;
        string name = GetString(nameOff, abs);
        int p = at + 12;
        if (!BtfType.HasSize(kind))
        {
            CheckRef(sizeOrType, abs + 8, id);
        }
        if (shallow && kind is BtfKind.Struct or BtfKind.Union or BtfKind.Enum or BtfKind.Enum64 or BtfKind.FuncProto or BtfKind.DataSec)
        {
            return new BtfType(id, kind, name, kindFlag, vlen, sizeOrType);
        }
        switch (kind)
        {
            case BtfKind.Int:
            {
                uint v = Word(p);
                return new BtfType(id, kind, name, kindFlag, vlen, sizeOrType)
                {
                    Int = new BtfIntInfo((BtfIntEncoding)((v >> 24) & 0xf), (byte)((v >> 16) & 0xff), (byte)(v & 0xff)),
                };
            }
            case BtfKind.Array:
            {
                uint elem = Word(p), index = Word(p + 4), n = Word(p + 8);
                CheckRef(elem, abs + 12, id);
                CheckRef(index, abs + 16, id);
                return new BtfType(id, kind, name, kindFlag, vlen, sizeOrType) { Array = new BtfArrayInfo((int)elem, (int)index, n) };
            }
            case BtfKind.Struct or BtfKind.Union:
            {
                var members = new BtfMember[vlen];
                for (int i = 0; i < vlen; i++, p += 12)
                {
                    uint type = Word(p + 4), offset = Word(p + 8);
                    CheckRef(type, _typesAt + p + 4, id);
                    members[i] = kindFlag
                        ? new BtfMember(GetString(Word(p), _typesAt + p), (int)type, offset & 0xffffff, offset >> 24)
                        : new BtfMember(GetString(Word(p), _typesAt + p), (int)type, offset, 0);
                }
                return new BtfType(id, kind, name, kindFlag, vlen, sizeOrType) { Members = members };
            }
            case BtfKind.Enum:
            {
                var values = new BtfEnumValue[vlen];
                for (int i = 0; i < vlen; i++, p += 8)
                {
                    uint raw = Word(p + 4);
                    values[i] = new BtfEnumValue(GetString(Word(p), _typesAt + p), kindFlag ? (int)raw : raw);
                }
                return new BtfType(id, kind, name, kindFlag, vlen, sizeOrType) { EnumValues = values };
            }
            case BtfKind.Enum64:
            {
                var values = new BtfEnumValue[vlen];
                for (int i = 0; i < vlen; i++, p += 12)
                {
                    ulong raw = Word(p + 4) | ((ulong)Word(p + 8) << 32);
                    values[i] = new BtfEnumValue(GetString(Word(p), _typesAt + p), (long)raw);
                }
                return new BtfType(id, kind, name, kindFlag, vlen, sizeOrType) { EnumValues = values };
            }
            case BtfKind.FuncProto:
            {
                var parameters = new BtfParameter[vlen];
                for (int i = 0; i < vlen; i++, p += 8)
                {
                    uint type = Word(p + 4);
                    CheckRef(type, _typesAt + p + 4, id);
                    parameters[i] = new BtfParameter(GetString(Word(p), _typesAt + p), (int)type);
                }
                return new BtfType(id, kind, name, kindFlag, vlen, sizeOrType) { Parameters = parameters };
            }
            case BtfKind.Var:
                return new BtfType(id, kind, name, kindFlag, vlen, sizeOrType) { Linkage = (BtfLinkage)Word(p) };
            case BtfKind.DataSec:
            {
                var infos = new BtfVarSecInfo[vlen];
                for (int i = 0; i < vlen; i++, p += 12)
                {
                    uint type = Word(p);
                    CheckRef(type, _typesAt + p, id);
                    infos[i] = new BtfVarSecInfo((int)type, Word(p + 4), Word(p + 8));
                }
                return new BtfType(id, kind, name, kindFlag, vlen, sizeOrType) { SecInfos = infos };
            }
            case BtfKind.DeclTag:
                return new BtfType(id, kind, name, kindFlag, vlen, sizeOrType) { ComponentIndex = (int)Word(p) };
            case BtfKind.Func:
                return new BtfType(id, kind, name, kindFlag, vlen, sizeOrType) { Linkage = (BtfLinkage)vlen };
            default:
                return new BtfType(id, kind, name, kindFlag, vlen, sizeOrType);
        }
    }

    private void CheckRef(uint typeId, long at, int referrer)
    {
        if (typeId >= (uint)TypeCount)
        {
            throw new MalformedDataException(Format, at, $"type {referrer} refers to type id {typeId}, beyond the last ({TypeCount - 1})");
        }
    }

    /// <summary>Follows TYPEDEF, CONST, VOLATILE, RESTRICT and TYPE_TAG to the underlying type id.</summary>
    public int Resolve(int id)
    {
        int current = id;
        for (int depth = 0; depth <= MaxResolveDepth; depth++)
        {
            BtfKind kind = GetKind(current);
            if (kind is not (BtfKind.Typedef or BtfKind.Const or BtfKind.Volatile or BtfKind.Restrict or BtfKind.TypeTag))
            {
                return current;
            }
            current = TypeIdOf(current);
        }
        throw new MalformedDataException(Format, OffsetOf(id), $"type {id}: typedef/modifier chain is cyclic or deeper than {MaxResolveDepth}");
    }

    /// <summary>The resolved type (<see cref="Resolve"/>) materialised.</summary>
    public BtfType ResolveType(int id) => GetType(Resolve(id));

    /// <summary>sizeof in bytes, as C computes it (arrays multiply, typedefs and modifiers resolve).</summary>
    public long SizeOf(int id) => SizeOf(id, 0);

    private long SizeOf(int id, int depth)
    {
        if (depth > MaxResolveDepth)
        {
            throw new MalformedDataException(Format, OffsetOf(id), $"type {id}: type graph is cyclic or deeper than {MaxResolveDepth}");
        }
        int r = Resolve(id);
        switch (GetKind(r))
        {
            case BtfKind.Int or BtfKind.Enum or BtfKind.Enum64 or BtfKind.Struct or BtfKind.Union or BtfKind.DataSec or BtfKind.Float:
                return SizeWord(r);
            case BtfKind.Pointer:
                return PointerSize;
            case BtfKind.Array:
                (int elementType, uint count) = ArrayOf(r);
                long element = SizeOf(elementType, depth + 1);
                long total = element * count;
                if (count != 0 && total / count != element || total > uint.MaxValue)
                {
                    throw new MalformedDataException(Format, OffsetOf(r), $"type {r}: array size overflows");
                }
                return total;
            case BtfKind.Var:
                return SizeOf(TypeIdOf(r), depth + 1);
            default:
                return 0;
        }
    }

    /// <summary>Natural alignment in bytes as libbpf computes it (1 for packed structs).</summary>
    public int AlignOf(int id) => AlignOf(id, 0);

    private int AlignOf(int id, int depth)
    {
        // Memoised per resolved composite: a DAG of structs sharing members stays linear.
        int resolved = Resolve(id);
        if (resolved >= FirstTypeId && GetKind(resolved) is BtfKind.Struct or BtfKind.Union)
        {
            lock (_alignLock)
            {
                return CachedAlign(resolved, depth);
            }
        }
        return resolved < FirstTypeId && Base is not null ? Base.AlignOf(resolved) : ComputeAlign(resolved, depth);
    }

    private int CachedAlign(int resolved, int depth)
    {
        {
            int[] cache = _alignCache ??= new int[OwnTypeCount];
            int local = resolved - FirstTypeId;
            if (cache[local] > 0)
            {
                return cache[local];
            }
            if (cache[local] < 0)
            {
                throw new MalformedDataException(Format, OffsetOf(resolved), $"type {resolved}: contains itself by value (cyclic type graph)");
            }
            cache[local] = -1;
            int computed;
            try
            {
                computed = ComputeAlign(resolved, depth);
            }
            catch
            {
                cache[local] = 0;
                throw;
            }
            cache[local] = computed;
            return computed;
        }
    }

    private int ComputeAlign(int id, int depth)
    {
        if (depth > MaxResolveDepth)
        {
            throw new MalformedDataException(Format, OffsetOf(id), $"type {id}: type graph is cyclic or deeper than {MaxResolveDepth}");
        }
        int r = Resolve(id);
        switch (GetKind(r))
        {
            case BtfKind.Int or BtfKind.Enum or BtfKind.Enum64 or BtfKind.Float:
                return (int)Math.Clamp(SizeWord(r), 1, (uint)PointerSize);
            case BtfKind.Pointer:
                return PointerSize;
            case BtfKind.Array:
                return AlignOf(ArrayOf(r).Element, depth + 1);
            case BtfKind.Struct or BtfKind.Union:
            {
                // The raw members (struct btf_member: name_off, type, offset): no names, nothing materialised.
                Btf owner = Locate(r, out int at);
                uint info = owner.Word(at + 4);
                int vlen = (int)(info & 0xffff);
                bool kindFlag = (info >> 31) != 0;
                int max = 1;
                for (int i = 0, p = at + 12; i < vlen; i++, p += 12)
                {
                    int a = AlignOf(owner.RefAt(p + 4, r), depth + 1);
                    uint offset = owner.Word(p + 8);
                    bool bitfield = kindFlag && (offset >> 24) != 0;
                    uint bitOffset = kindFlag ? offset & 0xffffff : offset;
                    if (!bitfield && bitOffset % (8 * (uint)a) != 0)
                    {
                        return 1; // packed
                    }
                    max = Math.Max(max, a);
                }
                return owner.Word(at + 8) % (uint)max == 0 ? max : 1;
            }
            default:
                return 1;
        }
    }

    /// <summary>Whether a struct/union is packed (a member or the size is not naturally aligned).</summary>
    public bool IsPacked(int id) => IsPacked(ReadType(Resolve(id)));

    /// <summary><see cref="IsPacked(int)"/> of a type already at hand (a struct/union; false for other kinds).</summary>
    public bool IsPacked(BtfType t)
    {
        if (!t.IsComposite)
        {
            return false;
        }
        int max = 1;
        foreach (BtfMember m in t.Members)
        {
            int a = AlignOf(m.TypeId);
            if (!m.IsBitfield && m.BitOffset % (8 * (uint)a) != 0)
            {
                return true;
            }
            max = Math.Max(max, a);
        }
        return t.Size % (uint)max != 0;
    }
}
