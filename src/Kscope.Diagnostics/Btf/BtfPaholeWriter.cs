using System.Text;
using Kscope.Formats.Btf;
using BtfTypes = Kscope.Formats.Btf.Btf;

namespace Kscope.Diagnostics.Btf;

/// <summary>
/// Writes a struct/union layout the way pahole does: one member per line with "/* offset size */"
/// (bitfields "/* offset:bit size */"), anonymous members expanded, holes and bit holes,
/// cache-line boundaries and a summary (size, cachelines, members, holes, padding).
/// </summary>
public sealed class BtfPaholeWriter
{
    private const int CommentColumn = 56;
    private const int TypeColumn = 26;
    private readonly BtfTypes _btf;
    private readonly int _cacheLine;

    public BtfPaholeWriter(BtfTypes btf, int cacheLine = 64)
    {
        _btf = btf;
        _cacheLine = cacheLine;
    }

    public string Write(BtfLayout layout)
    {
        var sb = new StringBuilder();
        Write(layout, sb);
        return sb.ToString();
    }

    public void Write(BtfLayout layout, StringBuilder sb)
    {
        BtfType t = layout.Type;
        sb.Append(t.Kind == BtfKind.Union ? "union " : "struct ").Append(t.Name).Append(" {\n");
        long lastLine = 0;
        Body(layout, 1, sb, ref lastLine);
        if (layout.IsUnion)
        {
            sb.Append("};\n"); // pahole prints no summary for unions
            return;
        }
        sb.Append('\n');
        Indent(sb, 1).Append($"/* size: {layout.Size}, cachelines: {BtfLayout.CacheLines(layout.Size, _cacheLine)}, members: {layout.Members.Count} */\n");
        if (layout.HoleCount > 0)
        {
            long sumMembers = layout.Members.Where(m => !m.IsBitfield).Sum(m => m.Size);
            Indent(sb, 1).Append($"/* sum members: {sumMembers}, holes: {layout.HoleCount}, sum holes: {layout.HoleBytes} */\n");
        }
        if (layout.BitHoleCount > 0)
        {
            long bits = layout.Members.Where(m => m.IsBitfield).Sum(m => (long)m.BitfieldSize);
            Indent(sb, 1).Append($"/* sum bitfield members: {bits} bits, bit holes: {layout.BitHoleCount}, sum bit holes: {layout.BitHoleBits} bits */\n");
        }
        if (layout.BitPadding > 0)
        {
            Indent(sb, 1).Append($"/* bit_padding: {layout.BitPadding} bits */\n");
        }
        if (layout.Padding > 0)
        {
            Indent(sb, 1).Append($"/* padding: {layout.Padding} */\n");
        }
        if (layout.Size % _cacheLine != 0)
        {
            Indent(sb, 1).Append($"/* last cacheline: {layout.Size % _cacheLine} bytes */\n");
        }
        sb.Append("};\n");
    }

    private void Body(BtfLayout layout, int level, StringBuilder sb, ref long lastLine)
    {
        foreach (BtfLayoutMember m in layout.Members)
        {
            long line = m.ByteOffset / _cacheLine;
            if (line > lastLine)
            {
                lastLine = line;
                long ago = m.ByteOffset - line * _cacheLine;
                Indent(sb, level).Append($"/* --- cacheline {line} boundary ({line * _cacheLine} bytes)")
                    .Append(ago > 0 ? $" was {ago} bytes ago" : "").Append(" --- */\n");
            }
            string comment = m.IsBitfield
                ? $"/* {m.ByteOffset,5}:{m.BitPosition,2} {m.Size,2} */"
                : $"/* {m.ByteOffset,5} {m.Size,5} */";
            if (m.Nested is { } nested)
            {
                Indent(sb, level).Append(nested.IsUnion ? "union {\n" : "struct {\n");
                long nestedLine = lastLine;
                Body(nested, level + 1, sb, ref nestedLine);
                Columns(sb, level, "", m.Name.Length > 0 ? $"}} {m.Name};" : "};", comment);
            }
            else
            {
                (string type, string name) = Split(m);
                Columns(sb, level, type, name, comment);
            }
            if (m.BitHoleAfter > 0 || m.HoleAfter > 0)
            {
                sb.Append('\n');
                if (m.BitHoleAfter > 0)
                {
                    Indent(sb, level).Append($"/* XXX {m.BitHoleAfter} bit{(m.BitHoleAfter == 1 ? "" : "s")} hole, try to pack */\n");
                }
                if (m.HoleAfter > 0)
                {
                    Indent(sb, level).Append($"/* XXX {m.HoleAfter} byte{(m.HoleAfter == 1 ? "" : "s")} hole, try to pack */\n");
                }
                sb.Append('\n');
            }
        }
    }

    /// <summary>The type column and the declarator column of a member ("struct sk_buff *", "next").</summary>
    private (string Type, string Name) Split(BtfLayoutMember m)
    {
        const string mark = "\u0001";
        string full = BtfDeclaration.Declare(_btf, m.TypeId, mark);
        int at = full.IndexOf(mark, StringComparison.Ordinal);
        string prefix = full[..at].TrimEnd();
        string suffix = full[(at + 1)..];
        string bits = m.IsBitfield ? ":" + m.BitfieldSize : "";
        int paren = prefix.IndexOf('(');
        if (paren >= 0)
        {
            // function pointer: "void (*" + name + ")(args)"
            return (prefix[..paren].TrimEnd(), prefix[paren..] + m.Name + suffix + bits + ";");
        }
        return (prefix, m.Name + suffix + bits + ";");
    }

    private static void Columns(StringBuilder sb, int level, string type, string name, string comment)
    {
        Indent(sb, level);
        int column = level * 8;
        if (type.Length > 0)
        {
            // pahole: printf("%-*s", 26 - 8 * (level - 1), type); a negative width is its absolute value, left-justified.
            int width = Math.Abs(TypeColumn - 8 * (level - 1));
            sb.Append(type.PadRight(width)).Append(' ');
            column += Math.Max(width, type.Length) + 1;
        }
        sb.Append(name.PadRight(Math.Max(0, CommentColumn - column))).Append(' ').Append(comment).Append('\n');
    }

    private static StringBuilder Indent(StringBuilder sb, int level) => sb.Append('\t', level);
}
