using System.Text;
using System.Text.Json;
using Kscope.Formats.Btf;
using Kscope.Kernel.Btf;
using BtfTypes = Kscope.Formats.Btf.Btf;

namespace Kscope.Diagnostics.Btf;

/// <summary>JSON for `kscope btf … --json` (schemas in docs/btf.md), written with Utf8JsonWriter (trim-safe).</summary>
public static class BtfJson
{
    /// <summary>The schema of each document (docs/json.md).</summary>
    public const string DumpSchema = "kscope.btf.dump/v1", FindSchema = "kscope.btf.find/v1", DiffSchema = "kscope.btf.diff/v1", VerifySchema = "kscope.btf.verify/v1";

    private static string Write(Action<Utf8JsonWriter> body)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            body(w);
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    public static string Layouts(BtfTypes btf, IEnumerable<BtfLayout> layouts) => Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("schema", DumpSchema);
        w.WriteStartArray("types");
        foreach (BtfLayout l in layouts)
        {
            w.WriteStartObject();
            w.WriteNumber("id", l.Type.Id);
            w.WriteString("kind", l.IsUnion ? "union" : "struct");
            w.WriteString("name", l.Type.Name);
            w.WriteNumber("size", l.Size);
            w.WriteNumber("alignment", l.Alignment);
            w.WriteNumber("cachelines", BtfLayout.CacheLines(l.Size));
            w.WriteNumber("holes", l.HoleCount);
            w.WriteNumber("hole_bytes", l.HoleBytes);
            w.WriteNumber("bit_holes", l.BitHoleCount);
            w.WriteNumber("bit_hole_bits", l.BitHoleBits);
            w.WriteNumber("padding", l.Padding);
            Members(w, btf, l);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    });

    private static void Members(Utf8JsonWriter w, BtfTypes btf, BtfLayout l)
    {
        w.WriteStartArray("members");
        foreach (BtfLayoutMember m in l.Members)
        {
            w.WriteStartObject();
            w.WriteString("name", m.Name);
            w.WriteString("type", m.Nested is { } n ? (n.IsUnion ? "union" : "struct") : BtfDeclaration.TypeName(btf, m.TypeId));
            w.WriteNumber("offset", m.ByteOffset);
            w.WriteNumber("bit_offset", m.BitOffset);
            w.WriteNumber("size", m.Size);
            if (m.IsBitfield)
            {
                w.WriteNumber("bitfield_size", m.BitfieldSize);
                w.WriteNumber("bit_position", m.BitPosition);
            }
            w.WriteNumber("hole_after", m.HoleAfter);
            w.WriteNumber("bit_hole_after", m.BitHoleAfter);
            if (m.Nested is { } nested)
            {
                Members(w, btf, nested);
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    public static string Find(IEnumerable<BtfFindResult> results) => Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("schema", FindSchema);
        w.WriteStartArray("types");
        foreach (BtfFindResult r in results)
        {
            w.WriteStartObject();
            w.WriteNumber("id", r.Id);
            w.WriteString("kind", BtfFind.KindName(r.Kind));
            w.WriteString("name", r.Name);
            w.WriteNumber("size", r.Size);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    });

    public static string Diff(IEnumerable<BtfDifference> differences) => Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("schema", DiffSchema);
        w.WriteStartArray("differences");
        foreach (BtfDifference d in differences)
        {
            w.WriteStartObject();
            w.WriteString("type", d.Type);
            if (d.Member is null)
            {
                w.WriteNull("member");
            }
            else
            {
                w.WriteString("member", d.Member);
            }
            w.WriteString("change", d.Change);
            w.WriteString("before", d.Before);
            w.WriteString("after", d.After);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    });

    public static string Verify(IReadOnlyList<ManagedStructLayout> checkedTypes, IReadOnlyList<KernelStructMismatch> mismatches) => Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("schema", VerifySchema);
        w.WriteStartArray("types");
        foreach (ManagedStructLayout t in checkedTypes)
        {
            w.WriteStartObject();
            w.WriteString("type", t.TypeName);
            w.WriteString("kernel_name", t.KernelName);
            w.WriteBoolean("prefix", t.Prefix);
            w.WriteNumber("size", t.Size);
            w.WriteBoolean("ok", !mismatches.Any(m => m.TypeName == t.TypeName));
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("mismatches");
        foreach (KernelStructMismatch m in mismatches)
        {
            w.WriteStartObject();
            w.WriteString("type", m.TypeName);
            w.WriteString("kernel_name", m.KernelName);
            if (m.Field is null)
            {
                w.WriteNull("field");
            }
            else
            {
                w.WriteString("field", m.Field);
            }
            w.WriteString("message", m.Message);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    });
}
