namespace Kscope.Formats.Elf;

/// <summary>
/// One Elf64_Rel or Elf64_Rela entry: <see cref="Offset"/> inside the target section (sh_info of the
/// relocation section), the symbol index in the linked symbol table, the arch-specific type, and
/// the addend (0 for SHT_REL).
/// </summary>
public readonly record struct ElfRelocation(ulong Offset, uint SymbolIndex, uint Type, long Addend);
