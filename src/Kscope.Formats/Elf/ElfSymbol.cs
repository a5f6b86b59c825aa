namespace Kscope.Formats.Elf;

/// <summary>One Elf64_Sym with its name. <see cref="Index"/> is its position in the symbol table (what relocations refer to).</summary>
public sealed record ElfSymbol(
    int Index,
    string Name,
    ulong Value,
    ulong Size,
    ElfSymbolType Type,
    ElfSymbolBinding Binding,
    byte Visibility,
    ushort SectionIndex)
{
    public const ushort SectionUndefined = 0;
    public const ushort SectionAbsolute = 0xfff1;
    public const ushort SectionCommon = 0xfff2;
    public const ushort SectionExtended = 0xffff;

    public bool IsDefined => SectionIndex != SectionUndefined;
}
