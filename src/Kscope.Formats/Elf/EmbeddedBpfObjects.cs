using System.Buffers.Binary;

namespace Kscope.Formats.Elf;

/// <summary>
/// Finds eBPF ELF objects embedded in another file, e.g. the CO-RE object a libbpf skeleton
/// (<c>bpftool gen skeleton</c>) compiles into a tool such as BCC's libbpf-tools <c>execsnoop</c>.
/// </summary>
/// <remarks>
/// A candidate is the ELF magic <c>7f 'E' 'L' 'F'</c> at a non-zero offset followed by an Elf64_Ehdr
/// with EI_CLASS = ELFCLASS64 (2), EI_DATA 1 or 2, EI_VERSION 1 and e_machine = EM_BPF (247) in that
/// byte order; other occurrences of the magic (strings, code comparing magics) are not objects and
/// are skipped. The object's length is <c>e_shoff + e_shnum * e_shentsize</c>: clang writes the
/// section header table last, so every section's bytes (sh_offset, sh_size; SHT_NOBITS excluded) must
/// lie inside that range, and the header table and the section name table must lie inside the file.
/// A candidate that claims to be a BPF object but breaks these rules throws
/// <see cref="MalformedDataException"/> with the offending file offset.
/// </remarks>
public static class EmbeddedBpfObjects
{
    private const string Format = "embedded BPF object";
    private const int HeaderSize = 64;
    private const int SectionHeaderSize = 64;
    private const uint ShtNoBits = 8;

    /// <summary>Every embedded BPF object in <paramref name="file"/>, in file order (an object at offset 0 is the file itself, not embedded).</summary>
    public static IReadOnlyList<EmbeddedBpfObject> Find(ReadOnlySpan<byte> file)
    {
        var found = new List<EmbeddedBpfObject>();
        ReadOnlySpan<byte> magic = [0x7f, (byte)'E', (byte)'L', (byte)'F'];
        int from = 1;
        while (from < file.Length)
        {
            int hit = file[from..].IndexOf(magic);
            if (hit < 0)
            {
                break;
            }
            int at = from + hit;
            if (TryRead(file, at, out EmbeddedBpfObject? obj))
            {
                found.Add(obj!);
                // Progress is guaranteed: an object is at least a header and one section header long.
                from = at + Math.Max(obj!.Length, 1);
            }
            else
            {
                from = at + 1;
            }
        }
        return found;
    }

    /// <summary>True when the bytes at <paramref name="offset"/> start a 64-bit EM_BPF ELF header (the object is then validated by <see cref="Find"/>).</summary>
    public static bool LooksLikeBpfHeader(ReadOnlySpan<byte> file, int offset)
    {
        if ((uint)offset > (uint)file.Length || file.Length - offset < 20)
        {
            return false;
        }
        ReadOnlySpan<byte> h = file[offset..];
        if (!ElfFile.IsElf(h) || h[4] != 2 || h[5] is not (1 or 2) || h[6] != 1)
        {
            return false;
        }
        ushort machine = h[5] == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(h[18..]) : BinaryPrimitives.ReadUInt16BigEndian(h[18..]);
        return machine == ElfMachine.Bpf;
    }

    private static bool TryRead(ReadOnlySpan<byte> file, int at, out EmbeddedBpfObject? obj)
    {
        obj = null;
        if (!LooksLikeBpfHeader(file, at))
        {
            return false;
        }
        bool bigEndian = file[at + 5] == 2;
        if (file.Length - at < HeaderSize)
        {
            throw new MalformedDataException(Format, file.Length, $"BPF ELF header at 0x{at:x} is truncated: {file.Length - at} bytes, the header needs {HeaderSize}");
        }
        var r = new SpanReader(file.Slice(at, HeaderSize), Format, bigEndian, at);
        r.Position = 40;
        ulong shoff = r.U64();
        r.Position = 52;
        ushort ehsize = r.U16();
        r.Position = 58;
        ushort shentsize = r.U16();
        ushort shnum = r.U16();
        ushort shstrndx = r.U16();
        if (ehsize != HeaderSize)
        {
            throw new MalformedDataException(Format, at + 52, $"BPF ELF header at 0x{at:x}: e_ehsize {ehsize}, want {HeaderSize}");
        }
        if (shentsize != SectionHeaderSize || shnum == 0 || shoff < HeaderSize)
        {
            throw new MalformedDataException(Format, at + 40, $"BPF ELF header at 0x{at:x}: no usable section header table (e_shoff {shoff}, e_shnum {shnum}, e_shentsize {shentsize})");
        }
        if (shstrndx >= shnum)
        {
            throw new MalformedDataException(Format, at + 62, $"BPF ELF header at 0x{at:x}: e_shstrndx {shstrndx} is not below e_shnum {shnum}");
        }
        // shoff is any 64-bit value: compare it with the room left before adding (shoff + shnum*64 could wrap).
        ulong room = (ulong)(file.Length - at);
        ulong tableSize = (ulong)shnum * SectionHeaderSize;
        if (shoff > room || tableSize > room - shoff)
        {
            throw new MalformedDataException(Format, at + 40, $"BPF ELF object at 0x{at:x}: its section header table [0x{shoff:x}, +0x{tableSize:x}) runs past the end of the file (0x{file.Length:x})");
        }
        ulong length = shoff + tableSize;
        var table = new SpanReader(file.Slice(at + (int)shoff, shnum * SectionHeaderSize), Format, bigEndian, at + (long)shoff);
        for (int i = 0; i < shnum; i++)
        {
            long entry = table.AbsoluteOffset;
            SpanReader s = table.Sub(SectionHeaderSize);
            s.Skip(4);
            uint type = s.U32();
            s.Skip(16);
            ulong offset = s.U64();
            ulong size = s.U64();
            if (i == 0 || type == ShtNoBits || size == 0)
            {
                continue;
            }
            if (offset > shoff || size > shoff - offset)
            {
                throw new MalformedDataException(Format, entry, $"BPF ELF object at 0x{at:x}: section {i} (offset 0x{offset:x}, size {size}) does not end before the section header table at 0x{shoff:x}");
            }
        }
        obj = new EmbeddedBpfObject(at, (int)length, shnum);
        return true;
    }
}
