using System.Text;
using System.Text.RegularExpressions;
using Kscope.Formats.Btf;
using BtfTypes = Kscope.Formats.Btf.Btf;

namespace Kscope.Diagnostics.Btf;

/// <summary>One match of `kscope btf find`.</summary>
public sealed record BtfFindResult(int Id, BtfKind Kind, string Name, long Size);

/// <summary>Types whose name matches a glob (* any run, ? one character, [abc] a set), with kind and size.</summary>
public static class BtfFind
{
    public static IReadOnlyList<BtfFindResult> Find(BtfTypes btf, string pattern, BtfKind? kind = null)
    {
        var regex = new Regex(GlobToRegex(pattern), RegexOptions.CultureInvariant);
        string? exact = pattern.IndexOfAny(['*', '?', '[']) < 0 ? pattern : null;
        var result = new List<BtfFindResult>();
        IEnumerable<int> ids = exact is not null ? btf.FindTypes(exact) : btf.AllTypeIds;
        foreach (int id in ids)
        {
            BtfKind k = btf.GetKind(id);
            if (kind is not null && k != kind)
            {
                continue;
            }
            string name = btf.GetName(id);
            if (name.Length == 0 || !regex.IsMatch(name))
            {
                continue;
            }
            long size = k is BtfKind.Func or BtfKind.FuncProto or BtfKind.Forward ? 0 : btf.SizeOf(id);
            result.Add(new BtfFindResult(id, k, name, size));
        }
        return result;
    }

    public static string KindName(BtfKind kind) => kind switch
    {
        BtfKind.Pointer => "ptr",
        BtfKind.Forward => "fwd",
        BtfKind.FuncProto => "func_proto",
        BtfKind.DataSec => "datasec",
        BtfKind.DeclTag => "decl_tag",
        BtfKind.TypeTag => "type_tag",
        _ => kind.ToString().ToLowerInvariant(),
    };

    internal static string GlobToRegex(string glob)
    {
        var sb = new StringBuilder("^");
        for (int i = 0; i < glob.Length; i++)
        {
            char c = glob[i];
            switch (c)
            {
                case '*': sb.Append(".*"); break;
                case '?': sb.Append('.'); break;
                case '[':
                    int end = glob.IndexOf(']', i + 1);
                    if (end < 0)
                    {
                        sb.Append(@"\[");
                    }
                    else
                    {
                        sb.Append('[').Append(Regex.Escape(glob[(i + 1)..end]).Replace(@"\-", "-")).Append(']');
                        i = end;
                    }
                    break;
                default: sb.Append(Regex.Escape(c.ToString())); break;
            }
        }
        return sb.Append('$').ToString();
    }
}
