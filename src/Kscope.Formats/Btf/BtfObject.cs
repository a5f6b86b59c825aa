using Kscope.Formats.Elf;

namespace Kscope.Formats.Btf;

/// <summary>The BTF of an ELF object: its .BTF and, when present, .BTF.ext.</summary>
public sealed record BtfObject(Btf Btf, BtfExt? Ext)
{
    public static BtfObject FromElf(ElfFile elf, Btf? baseBtf = null)
    {
        Btf btf = Btf.FromElf(elf, baseBtf);
        ElfSection? ext = elf.GetSection(".BTF.ext");
        return new BtfObject(btf, ext is null ? null : BtfExt.Parse(ext.Data, btf, (long)ext.Offset));
    }
}
