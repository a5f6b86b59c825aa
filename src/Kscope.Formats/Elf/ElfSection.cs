namespace Kscope.Formats.Elf;

/// <summary>
/// One section header (Elf64_Shdr) with its resolved name. <see cref="Data"/> is empty for
/// SHT_NOBITS (.bss) and otherwise the section's bytes in the file.
/// </summary>
public sealed class ElfSection
{
    internal ElfSection(int index, string name, uint nameOffset, ElfSectionType type, ulong flags, ulong address,
        ulong offset, ulong size, uint link, uint info, ulong alignment, ulong entrySize, ReadOnlyMemory<byte> data)
    {
        Index = index;
        Name = name;
        NameOffset = nameOffset;
        Type = type;
        Flags = flags;
        Address = address;
        Offset = offset;
        Size = size;
        Link = link;
        Info = info;
        Alignment = alignment;
        EntrySize = entrySize;
        Data = data;
    }

    public const ulong FlagWrite = 0x1;
    public const ulong FlagAlloc = 0x2;
    public const ulong FlagExecInstr = 0x4;
    public const ulong FlagCompressed = 0x800;

    /// <summary>Index in the section header table (what st_shndx and sh_link/sh_info refer to).</summary>
    public int Index { get; }

    public string Name { get; }

    public uint NameOffset { get; }

    public ElfSectionType Type { get; }

    /// <summary>sh_flags (SHF_WRITE 1, SHF_ALLOC 2, SHF_EXECINSTR 4, …).</summary>
    public ulong Flags { get; }

    /// <summary>sh_addr: the virtual address when loaded (0 in relocatable objects).</summary>
    public ulong Address { get; }

    /// <summary>sh_offset: where the bytes are in the file.</summary>
    public ulong Offset { get; }

    /// <summary>sh_size (for SHT_NOBITS the in-memory size; <see cref="Data"/> is then empty).</summary>
    public ulong Size { get; }

    /// <summary>sh_link: for symbol tables the string table, for relocations the symbol table.</summary>
    public uint Link { get; }

    /// <summary>sh_info: for SHT_REL/SHT_RELA the section the relocations apply to.</summary>
    public uint Info { get; }

    public ulong Alignment { get; }

    public ulong EntrySize { get; }

    public ReadOnlyMemory<byte> Data { get; }

    public bool IsExecutable => (Flags & FlagExecInstr) != 0;

    public bool IsAllocated => (Flags & FlagAlloc) != 0;

    public override string ToString() => $"[{Index}] {Name} {Type} off=0x{Offset:x} size=0x{Size:x}";
}
