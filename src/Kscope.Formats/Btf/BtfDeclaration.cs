using System.Text;

namespace Kscope.Formats.Btf;

/// <summary>
/// C declarations of BTF types ("struct sk_buff *next", "void (*destructor)(struct sk_buff *)",
/// "__u8 padding1[6]"). Anonymous structs/unions/enums are written as "struct {...}" unless an
/// <c>inlineBody</c> callback writes their body. Depth is bounded (cyclic graphs throw).
/// </summary>
public static class BtfDeclaration
{
    private const int MaxDepth = 64;

    /// <summary>The C spelling of a type with no declarator: "unsigned int", "struct kvm_run *".</summary>
    public static string TypeName(Btf btf, int typeId) => Declare(btf, typeId, "");

    /// <summary>A declaration of <paramref name="name"/> with this type.</summary>
    /// <param name="anonymousBody">Writes the "{ … }" of anonymous structs, unions and enums (C output).</param>
    /// <param name="nameOf">Overrides the names of structs, unions, enums, forwards and typedefs (deduplicated C output).</param>
    public static string Declare(Btf btf, int typeId, string name, Func<BtfType, string>? anonymousBody = null, Func<BtfType, string>? nameOf = null) =>
        Declare(btf, typeId, name, anonymousBody, nameOf, 0);

    /// <summary>
    /// A declaration in three parts, for writers that stream the base type (an anonymous body) themselves:
    /// the declaration is <c>Qualifiers + base type + " " + Declarator</c> (no space when the declarator is empty),
    /// e.g. ("const ", struct x, "*name[4]"). <paramref name="anonymousBody"/> is used only for parameters of
    /// function prototypes inside the declarator.
    /// </summary>
    public static (string Qualifiers, BtfType Base, string Declarator) Split(Btf btf, int typeId, string name,
        Func<BtfType, string>? anonymousBody = null, Func<BtfType, string>? nameOf = null) =>
        Parts(btf, typeId, name, anonymousBody, nameOf, 0);

    private static string Declare(Btf btf, int typeId, string name, Func<BtfType, string>? anonymousBody, Func<BtfType, string>? nameOf, int depth)
    {
        (string qualifiers, BtfType t, string declarator) = Parts(btf, typeId, name, anonymousBody, nameOf, depth);
        return Join(qualifiers + BaseName(t, anonymousBody, nameOf), declarator);
    }

    private static (string Qualifiers, BtfType Base, string Declarator) Parts(Btf btf, int typeId, string name,
        Func<BtfType, string>? anonymousBody, Func<BtfType, string>? nameOf, int depth)
    {
        string declarator = name;
        int id = typeId;
        var qualifiers = new StringBuilder();
        string baseQualifiers = "";
        for (; ; depth++)
        {
            if (depth > MaxDepth)
            {
                throw new MalformedDataException(Btf.Format, btf.OffsetOf(typeId), $"type {typeId}: declaration nests deeper than {MaxDepth} (cyclic?)");
            }
            // Uncached reads: a declaration needs only the header of a named base type ("struct sk_buff"), and
            // writers of every type (a whole vmlinux.h) must not end up holding every type in memory.
            BtfType t = btf.GetKind(id) is BtfKind.FuncProto || btf.IsAnonymous(id) ? btf.ReadType(id) : btf.ReadTypeHeader(id);
            switch (t.Kind)
            {
                case BtfKind.Pointer:
                {
                    BtfKind target = SkipQualifiers(btf, t.TypeId);
                    declarator = "*" + qualifiers + declarator;
                    qualifiers.Clear();
                    if (target is BtfKind.Array or BtfKind.FuncProto)
                    {
                        declarator = "(" + declarator + ")";
                    }
                    id = t.TypeId;
                    continue;
                }
                case BtfKind.Const or BtfKind.Volatile or BtfKind.Restrict:
                {
                    string q = t.Kind switch { BtfKind.Const => "const", BtfKind.Volatile => "volatile", _ => "restrict" };
                    if (btf.GetKind(t.TypeId) == BtfKind.Pointer)
                    {
                        // "char * const p": the qualifier applies to the pointer, written after the star.
                        qualifiers.Insert(0, q + " ");
                    }
                    else if (!baseQualifiers.Contains(q + " ", StringComparison.Ordinal))
                    {
                        // On a base type, or on an array (where C applies it to the elements).
                        baseQualifiers += q + " ";
                    }
                    id = t.TypeId;
                    continue;
                }
                case BtfKind.TypeTag:
                    id = t.TypeId;
                    continue;
                case BtfKind.Array:
                    declarator = qualifiers + declarator + "[" + t.Array.Count + "]";
                    qualifiers.Clear();
                    id = t.Array.ElementTypeId;
                    continue;
                case BtfKind.FuncProto:
                {
                    var sb = new StringBuilder();
                    sb.Append(qualifiers).Append(declarator).Append('(');
                    qualifiers.Clear();
                    if (t.Parameters.Count == 0)
                    {
                        sb.Append("void");
                    }
                    for (int i = 0; i < t.Parameters.Count; i++)
                    {
                        if (i > 0)
                        {
                            sb.Append(", ");
                        }
                        BtfParameter p = t.Parameters[i];
                        sb.Append(p.TypeId == 0 && i == t.Parameters.Count - 1 ? "..." : Declare(btf, p.TypeId, "", anonymousBody, nameOf, depth + 1));
                    }
                    sb.Append(')');
                    declarator = sb.ToString();
                    id = t.TypeId;
                    continue;
                }
                default:
                    return (baseQualifiers, t, qualifiers.Length == 0 ? declarator : qualifiers + declarator);
            }
        }
    }

    /// <summary>"struct x", "union {...}", "enum e", a typedef or base type name, "void".</summary>
    public static string BaseName(BtfType t, Func<BtfType, string>? anonymousBody = null, Func<BtfType, string>? nameOf = null) => t.Kind switch
    {
        BtfKind.Void => "void",
        BtfKind.Struct => t.Name.Length > 0 ? "struct " + Name(t, nameOf) : "struct " + (anonymousBody?.Invoke(t) ?? "{...}"),
        BtfKind.Union => t.Name.Length > 0 ? "union " + Name(t, nameOf) : "union " + (anonymousBody?.Invoke(t) ?? "{...}"),
        BtfKind.Enum or BtfKind.Enum64 => t.Name.Length > 0 ? "enum " + Name(t, nameOf) : "enum " + (anonymousBody?.Invoke(t) ?? "{...}"),
        BtfKind.Forward => (t.IsUnionForward ? "union " : "struct ") + Name(t, nameOf),
        BtfKind.Typedef => Name(t, nameOf),
        _ => t.Name,
    };

    private static string Name(BtfType t, Func<BtfType, string>? nameOf) => nameOf?.Invoke(t) ?? t.Name;

    private static string Join(string type, string declarator) => declarator.Length == 0 ? type : type + " " + declarator;

    /// <summary>The kind under const/volatile/restrict/type-tag qualifiers (void past 64 of them).</summary>
    internal static BtfKind SkipQualifiers(Btf btf, int id)
    {
        for (int i = 0; i < MaxDepth; i++)
        {
            BtfKind k = btf.GetKind(id);
            if (k is not (BtfKind.Const or BtfKind.Volatile or BtfKind.Restrict or BtfKind.TypeTag))
            {
                return k;
            }
            id = btf.TypeIdOf(id);
        }
        return BtfKind.Void;
    }
}
