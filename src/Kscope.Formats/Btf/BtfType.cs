namespace Kscope.Formats.Btf;

/// <summary>
/// One BTF type, materialised on demand by <see cref="Btf.GetType(int)"/>. Kind-specific data is in
/// the matching property (<see cref="Members"/> for STRUCT/UNION, <see cref="EnumValues"/> for
/// ENUM/ENUM64, <see cref="Parameters"/> for FUNC_PROTO, <see cref="Array"/>, <see cref="Int"/>,
/// <see cref="SecInfos"/> for DATASEC); the others are empty.
/// </summary>
public sealed class BtfType
{
    private static readonly BtfMember[] s_noMembers = [];

    internal BtfType(int id, BtfKind kind, string name, bool kindFlag, int vlen, uint sizeOrType)
    {
        Id = id;
        Kind = kind;
        Name = name;
        KindFlag = kindFlag;
        Vlen = vlen;
        SizeOrType = sizeOrType;
    }

    public int Id { get; }

    public BtfKind Kind { get; }

    /// <summary>The name, or "" for anonymous types.</summary>
    public string Name { get; }

    public bool KindFlag { get; }

    /// <summary>The vlen bits of info (member count, enumerator count, linkage for FUNC…).</summary>
    public int Vlen { get; }

    /// <summary>The raw size/type union of struct btf_type.</summary>
    public uint SizeOrType { get; }

    /// <summary>Size in bytes for INT, ENUM, ENUM64, STRUCT, UNION, DATASEC, FLOAT; else 0.</summary>
    public uint Size => HasSize(Kind) ? SizeOrType : 0;

    /// <summary>The referenced type for PTR, TYPEDEF, VOLATILE, CONST, RESTRICT, FUNC, FUNC_PROTO (return), VAR, DECL_TAG, TYPE_TAG; else 0.</summary>
    public int TypeId => HasSize(Kind) ? 0 : (int)SizeOrType;

    public IReadOnlyList<BtfMember> Members { get; internal init; } = s_noMembers;

    public IReadOnlyList<BtfEnumValue> EnumValues { get; internal init; } = [];

    public IReadOnlyList<BtfParameter> Parameters { get; internal init; } = [];

    public IReadOnlyList<BtfVarSecInfo> SecInfos { get; internal init; } = [];

    public BtfArrayInfo Array { get; internal init; }

    public BtfIntInfo Int { get; internal init; }

    /// <summary>FUNC linkage (vlen) or VAR linkage.</summary>
    public BtfLinkage Linkage { get; internal init; }

    /// <summary>DECL_TAG: -1 for the whole type, else the member or parameter index.</summary>
    public int ComponentIndex { get; internal init; }

    /// <summary>STRUCT/UNION members use the kind_flag bitfield encoding.</summary>
    public bool HasBitfieldEncoding => Kind is BtfKind.Struct or BtfKind.Union && KindFlag;

    /// <summary>ENUM/ENUM64 with signed values (kind_flag).</summary>
    public bool IsSigned => Kind is BtfKind.Enum or BtfKind.Enum64 ? KindFlag : Kind == BtfKind.Int && Int.IsSigned;

    /// <summary>FWD of a union (kind_flag), else of a struct.</summary>
    public bool IsUnionForward => Kind == BtfKind.Forward && KindFlag;

    public bool IsComposite => Kind is BtfKind.Struct or BtfKind.Union;

    /// <summary>TYPEDEF, VOLATILE, CONST, RESTRICT, TYPE_TAG: what resolution skips.</summary>
    public bool IsModifierOrTypedef => Kind is BtfKind.Typedef or BtfKind.Volatile or BtfKind.Const or BtfKind.Restrict or BtfKind.TypeTag;

    internal static bool HasSize(BtfKind kind) =>
        kind is BtfKind.Int or BtfKind.Enum or BtfKind.Enum64 or BtfKind.Struct or BtfKind.Union or BtfKind.DataSec or BtfKind.Float;

    public override string ToString() => $"[{Id}] {Kind} '{Name}'";
}
