namespace Kscope.Formats.Elf;

/// <summary>ELF64_ST_BIND(st_info).</summary>
public enum ElfSymbolBinding : byte
{
    Local = 0,
    Global = 1,
    Weak = 2,
    GnuUnique = 10,
}
