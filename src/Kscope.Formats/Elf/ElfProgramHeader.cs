namespace Kscope.Formats.Elf;

/// <summary>One Elf64_Phdr (segment).</summary>
public sealed record ElfProgramHeader(
    ElfSegmentType Type,
    uint Flags,
    ulong Offset,
    ulong VirtualAddress,
    ulong PhysicalAddress,
    ulong FileSize,
    ulong MemorySize,
    ulong Alignment)
{
    public const uint FlagExecute = 1;
    public const uint FlagWrite = 2;
    public const uint FlagRead = 4;

    public bool IsExecutable => (Flags & FlagExecute) != 0;
}
