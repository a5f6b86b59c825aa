using Kscope.Diagnostics.Trace;
using Kscope.Formats.Elf;
using Kscope.Kernel.Btf;

namespace Kscope.Diagnostics.Tests.Trace;

/// <summary>
/// Gadgets as types: every record mirror matches the struct of the same name in the gadget's own object
/// (its BTF: the C structs are kept there by KEEP_RECORD or a map's key/value type), and every streamed
/// record's JSON keys are the gadget's schema. Pure: reads the embedded objects, no kernel needed.
/// </summary>
public sealed class GadgetTypesTests
{
    public static TheoryData<string> EbpfGadgets => new(GadgetCatalog.All.Where(g => g.Object is not null).Select(g => g.Name));

    [Theory]
    [MemberData(nameof(EbpfGadgets))]
    public void Mirrors_OfGadget_MatchItsObjectsBtf(string name)
    {
        Gadget gadget = GadgetCatalog.Find(name)!;
        Assert.NotEmpty(gadget.Mirrors);
        ElfFile elf = ElfFile.Parse(GadgetObjects.Load(gadget.Object!));
        Kscope.Formats.Btf.Btf btf = Kscope.Formats.Btf.Btf.ParseAny(elf.GetSectionData(".BTF")!.Value);
        using var reader = new ManagedLayoutReader(typeof(Gadget).Assembly.Location);
        IReadOnlyList<ManagedStructLayout> layouts = reader.ReadKernelStructs();
        var verifier = new KernelStructVerifier(btf);
        foreach (Type mirror in gadget.Mirrors)
        {
            ManagedStructLayout layout = layouts.Single(l => l.TypeName == mirror.FullName);
            IReadOnlyList<KernelStructMismatch> mismatches = verifier.Verify(layout);
            Assert.True(mismatches.Count == 0, $"{name}: {mirror.Name} vs struct {layout.KernelName} in {gadget.Object}.bpf.o:\n" + string.Join('\n', mismatches));
            Assert.Equal(layout.Size, System.Runtime.InteropServices.Marshal.SizeOf(mirror));
        }
    }

    [Fact]
    public void Mirrors_EveryKernelStructOfDiagnosticsTrace_BelongsToAGadget()
    {
        using var reader = new ManagedLayoutReader(typeof(Gadget).Assembly.Location);
        string[] declared = GadgetCatalog.All.SelectMany(g => g.Mirrors).Select(t => t.FullName!).Distinct().Order(StringComparer.Ordinal).ToArray();
        string[] found = reader.ReadKernelStructs().Select(l => l.TypeName)
            .Where(n => n.StartsWith("Kscope.Diagnostics.Trace.", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(found, declared); // a mirror no gadget declares would be checked by nothing
    }

    [Theory]
    [MemberData(nameof(EbpfGadgets))]
    public void Schema_OfStreamedRecord_IsTheDecodedKeys(string name)
    {
        Gadget gadget = GadgetCatalog.Find(name)!;
        if (!gadget.Schema.TryGetValue("event", out IReadOnlyList<string>? keys))
        {
            Assert.Null(gadget.StreamColumns);
            return;
        }
        int size = gadget.Mirrors.Select(System.Runtime.InteropServices.Marshal.SizeOf).Max();
        byte[] record = new byte[size];
        record[48] = 1; // a valid kind for the gadgets that check one (signal @48, tcp @64)
        record[64] = 1;
        Assert.Equal(keys, gadget.Decode(record).Fields().Select(f => f.Name));
        foreach (string column in gadget.StreamColumns ?? gadget.Columns)
        {
            Assert.Contains(column, keys);
        }
    }

    [Fact]
    public void Catalog_Names_AreUniqueAndEveryObjectIsEmbedded()
    {
        Assert.Equal(GadgetCatalog.All.Count, GadgetCatalog.All.Select(g => g.Name).Distinct().Count());
        foreach (Gadget g in GadgetCatalog.All.Where(g => g.Object is not null))
        {
            Assert.Contains(g.Object!, GadgetObjects.Names);
        }
    }
}
