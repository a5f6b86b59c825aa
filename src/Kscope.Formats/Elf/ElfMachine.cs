namespace Kscope.Formats.Elf;

/// <summary>A few e_machine values kscope cares about (include/uapi/linux/elf-em.h).</summary>
public static class ElfMachine
{
    public const ushort X86_64 = 62;
    public const ushort AArch64 = 183;
    public const ushort RiscV = 243;
    public const ushort Bpf = 247;
}
