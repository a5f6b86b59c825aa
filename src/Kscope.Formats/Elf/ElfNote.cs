namespace Kscope.Formats.Elf;

/// <summary>One note (Elf64_Nhdr + name + descriptor), e.g. ("GNU", NT_GNU_BUILD_ID = 3, build id bytes).</summary>
public sealed record ElfNote(string Name, uint Type, ReadOnlyMemory<byte> Descriptor)
{
    public const uint GnuBuildId = 3;
}
