namespace Kscope.Formats.Elf;

/// <summary>
/// One eBPF ELF object found inside a larger file (a libbpf skeleton embeds its object as a byte
/// array in the tool's executable): where it starts and how long it is.
/// </summary>
/// <param name="Offset">File offset of the object's ELF header.</param>
/// <param name="Length">Bytes from the header to the end of the section header table.</param>
/// <param name="SectionCount">e_shnum of the embedded object.</param>
public sealed record EmbeddedBpfObject(long Offset, int Length, int SectionCount)
{
    /// <summary>The object's bytes within <paramref name="file"/> (the bytes it was found in).</summary>
    public ReadOnlyMemory<byte> Slice(ReadOnlyMemory<byte> file) => file.Slice((int)Offset, Length);
}
