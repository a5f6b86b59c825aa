namespace Kscope.Formats.Elf;

/// <summary>
/// A 64-bit ELF file (either byte order), parsed from memory. The header, section headers (with
/// names) and program headers are read eagerly; symbol tables, notes and relocations on first use.
/// </summary>
/// <remarks>
/// Wire layout (Elf64_Ehdr, 64 bytes): e_ident[16] (7f 'E' 'L' 'F', class, data, version, osabi…),
/// e_type u16 @16, e_machine u16 @18, e_version u32 @20, e_entry u64 @24, e_phoff u64 @32,
/// e_shoff u64 @40, e_flags u32 @48, e_ehsize u16 @52, e_phentsize u16 @54, e_phnum u16 @56,
/// e_shentsize u16 @58, e_shnum u16 @60, e_shstrndx u16 @62. Extended numbering (e_shnum 0,
/// e_shstrndx 0xffff, e_phnum 0xffff) is read from section 0 as the gABI says.
/// Every malformed input throws <see cref="MalformedDataException"/> with the file offset.
/// </remarks>
public sealed class ElfFile
{
    internal const string Format = "ELF";
    private const int HeaderSize = 64;
    private const int SectionHeaderSize = 64;
    private const int ProgramHeaderSize = 56;
    private const int SymbolSize = 24;

    private readonly ReadOnlyMemory<byte> _data;
    private readonly ElfSection[] _sections;
    private readonly ElfProgramHeader[] _programHeaders;
    private IReadOnlyList<ElfSymbol>? _symbols;
    private IReadOnlyList<ElfSymbol>? _dynamicSymbols;
    private IReadOnlyList<ElfNote>? _notes;
    private string? _buildId;
    private bool _buildIdRead;

    private ElfFile(ReadOnlyMemory<byte> data, bool bigEndian, ElfFileType type, ushort machine, byte osAbi, ulong entry,
        uint flags, ElfSection[] sections, ElfProgramHeader[] programHeaders)
    {
        _data = data;
        BigEndian = bigEndian;
        Type = type;
        Machine = machine;
        OsAbi = osAbi;
        Entry = entry;
        Flags = flags;
        _sections = sections;
        _programHeaders = programHeaders;
    }

    /// <summary>The whole file's bytes.</summary>
    public ReadOnlyMemory<byte> Data => _data;

    public bool BigEndian { get; }

    public ElfFileType Type { get; }

    /// <summary>e_machine (see <see cref="ElfMachine"/>).</summary>
    public ushort Machine { get; }

    public byte OsAbi { get; }

    public ulong Entry { get; }

    public uint Flags { get; }

    /// <summary>All section headers in index order (index 0 is the null section).</summary>
    public IReadOnlyList<ElfSection> Sections => _sections;

    public IReadOnlyList<ElfProgramHeader> ProgramHeaders => _programHeaders;

    /// <summary>.symtab entries in table order (entry 0 is the null symbol), or empty when stripped.</summary>
    public IReadOnlyList<ElfSymbol> Symbols => _symbols ??= ReadSymbols(ElfSectionType.SymTab);

    /// <summary>.dynsym entries in table order (entry 0 is the null symbol), or empty.</summary>
    public IReadOnlyList<ElfSymbol> DynamicSymbols => _dynamicSymbols ??= ReadSymbols(ElfSectionType.DynSym);

    /// <summary>Notes of every SHT_NOTE section, or of PT_NOTE segments when there are no section headers.</summary>
    public IReadOnlyList<ElfNote> Notes => _notes ??= ReadAllNotes();

    /// <summary>The GNU build id as lowercase hex (NT_GNU_BUILD_ID), or null.</summary>
    public string? BuildId
    {
        get
        {
            if (!_buildIdRead)
            {
                _buildId = FindBuildId();
                _buildIdRead = true;
            }
            return _buildId;
        }
    }

    /// <summary>Quick check of the magic, without parsing.</summary>
    public static bool IsElf(ReadOnlySpan<byte> data) =>
        data.Length >= 4 && data[0] == 0x7f && data[1] == (byte)'E' && data[2] == (byte)'L' && data[3] == (byte)'F';

    public static ElfFile Parse(ReadOnlyMemory<byte> data)
    {
        ReadOnlySpan<byte> span = data.Span;
        if (span.Length < 16)
        {
            throw new MalformedDataException(Format, span.Length, $"truncated: {span.Length} bytes, the identification needs 16");
        }
        if (!IsElf(span))
        {
            throw new MalformedDataException(Format, 0, "not an ELF file (bad magic)");
        }
        byte elfClass = span[4];
        if (elfClass == 1)
        {
            throw new MalformedDataException(Format, 4, "32-bit ELF (ELFCLASS32) is not supported; only ELFCLASS64");
        }
        if (elfClass != 2)
        {
            throw new MalformedDataException(Format, 4, $"bad EI_CLASS {elfClass}");
        }
        bool bigEndian = span[5] switch
        {
            1 => false,
            2 => true,
            byte b => throw new MalformedDataException(Format, 5, $"bad EI_DATA {b} (1 little-endian, 2 big-endian)"),
        };
        byte osAbi = span[7];
        var r = new SpanReader(span, Format, bigEndian);
        if (span.Length < HeaderSize)
        {
            throw r.Error(span.Length, $"truncated: {span.Length} bytes, the ELF64 header needs {HeaderSize}");
        }
        r.Position = 16;
        var type = (ElfFileType)r.U16();
        ushort machine = r.U16();
        r.U32(); // e_version
        ulong entry = r.U64();
        ulong phoff = r.U64();
        ulong shoff = r.U64();
        uint flags = r.U32();
        r.U16(); // e_ehsize
        ushort phentsize = r.U16();
        uint phnum = r.U16();
        ushort shentsize = r.U16();
        uint shnum = r.U16();
        uint shstrndx = r.U16();

        // Extended numbering lives in section header 0.
        if (shoff != 0 && (shnum == 0 || shstrndx == 0xffff || phnum == 0xffff))
        {
            if (shentsize < SectionHeaderSize)
            {
                throw r.Error(58, $"e_shentsize {shentsize} is smaller than {SectionHeaderSize}");
            }
            var s0 = Range(r, shoff, SectionHeaderSize, "section header 0");
            s0.Skip(32);
            ulong size0 = s0.U64();
            uint link0 = s0.U32();
            uint info0 = s0.U32();
            if (shnum == 0) { shnum = size0 > uint.MaxValue ? uint.MaxValue : (uint)size0; }
            if (shstrndx == 0xffff) { shstrndx = link0; }
            if (phnum == 0xffff) { phnum = info0; }
        }

        ElfSection[] sections = [];
        if (shoff != 0 && shnum != 0)
        {
            if (shentsize < SectionHeaderSize)
            {
                throw r.Error(58, $"e_shentsize {shentsize} is smaller than {SectionHeaderSize}");
            }
            sections = ReadSections(r, data, shoff, shentsize, shnum, shstrndx);
        }

        ElfProgramHeader[] phdrs = [];
        if (phoff != 0 && phnum != 0)
        {
            if (phentsize < ProgramHeaderSize)
            {
                throw r.Error(54, $"e_phentsize {phentsize} is smaller than {ProgramHeaderSize}");
            }
            // The table must lie in the file before anything is sized by its count (e_phnum 0xffff takes the
            // count from section 0's sh_info: up to 2^32 - 1).
            SpanReader table = Range(r, phoff, (ulong)phentsize * phnum, "program header table");
            phdrs = new ElfProgramHeader[phnum];
            for (int i = 0; i < phdrs.Length; i++)
            {
                long at = table.AbsoluteOffset;
                SpanReader p = table.Sub(phentsize);
                var ph = new ElfProgramHeader((ElfSegmentType)p.U32(), p.U32(), p.U64(), p.U64(), p.U64(), p.U64(), p.U64(), p.U64());
                ValidateProgramHeader(r, ph, i, at);
                phdrs[i] = ph;
            }
        }

        return new ElfFile(data, bigEndian, type, machine, osAbi, entry, flags, sections, phdrs);
    }

    /// <summary>
    /// A program header's ranges must not wrap past 2^64 (offset + filesz, vaddr + memsz) and a PT_LOAD's file
    /// part must not exceed its memory size. A segment may extend past the end of the file (separate debug info
    /// keeps the original headers): readers go through <see cref="TryRead"/>, which checks the file's length.
    /// </summary>
    private static void ValidateProgramHeader(SpanReader r, ElfProgramHeader p, int index, long at)
    {
        if (p.FileSize > ulong.MaxValue - p.Offset)
        {
            throw r.Error(at, $"program header {index}: p_offset 0x{p.Offset:x} + p_filesz 0x{p.FileSize:x} wraps past 2^64");
        }
        if (p.MemorySize > ulong.MaxValue - p.VirtualAddress)
        {
            throw r.Error(at, $"program header {index}: p_vaddr 0x{p.VirtualAddress:x} + p_memsz 0x{p.MemorySize:x} wraps past 2^64");
        }
        if (p.Type == ElfSegmentType.Load && p.FileSize > p.MemorySize)
        {
            throw r.Error(at, $"program header {index}: PT_LOAD p_filesz 0x{p.FileSize:x} is larger than p_memsz 0x{p.MemorySize:x}");
        }
    }

    /// <summary>
    /// The <paramref name="length"/> file bytes at virtual address <paramref name="virtualAddress"/> (one PT_LOAD
    /// segment's file part), or false when they are not all in the file. Every bound is checked without wrapping.
    /// </summary>
    public bool TryRead(ulong virtualAddress, int length, out ReadOnlyMemory<byte> bytes)
    {
        bytes = default;
        if (length < 0)
        {
            return false;
        }
        foreach (ElfProgramHeader p in _programHeaders)
        {
            if (p.Type == ElfSegmentType.Load && virtualAddress >= p.VirtualAddress && virtualAddress - p.VirtualAddress < p.FileSize)
            {
                ulong inSegment = virtualAddress - p.VirtualAddress;
                ulong offset = p.Offset + inSegment;
                if ((ulong)length > p.FileSize - inSegment || offset > (ulong)_data.Length || (ulong)length > (ulong)_data.Length - offset)
                {
                    return false;
                }
                bytes = _data.Slice((int)offset, length);
                return true;
            }
        }
        return false;
    }

    /// <summary>A program header's file bytes, or false when the segment does not lie inside the file.</summary>
    public bool TryReadSegment(ElfProgramHeader segment, out ReadOnlyMemory<byte> bytes)
    {
        bytes = default;
        if (segment.Offset > (ulong)_data.Length || segment.FileSize > (ulong)_data.Length - segment.Offset)
        {
            return false;
        }
        bytes = _data.Slice((int)segment.Offset, (int)segment.FileSize);
        return true;
    }

    /// <summary>The first section with this name, or null.</summary>
    public ElfSection? GetSection(string name)
    {
        foreach (ElfSection s in _sections)
        {
            if (s.Name == name)
            {
                return s;
            }
        }
        return null;
    }

    /// <summary>The section at this index; throws <see cref="MalformedDataException"/> when out of range.</summary>
    public ElfSection GetSection(int index)
    {
        if ((uint)index >= (uint)_sections.Length)
        {
            throw new MalformedDataException(Format, 0, $"section index {index} out of range (0..{_sections.Length - 1})");
        }
        return _sections[index];
    }

    /// <summary>The bytes of the named section, or null when there is no such section.</summary>
    public ReadOnlyMemory<byte>? GetSectionData(string name) => GetSection(name)?.Data;

    /// <summary>SHT_REL and SHT_RELA sections.</summary>
    public IEnumerable<ElfSection> RelocationSections
    {
        get
        {
            foreach (ElfSection s in _sections)
            {
                if (s.Type is ElfSectionType.Rel or ElfSectionType.Rela)
                {
                    yield return s;
                }
            }
        }
    }

    /// <summary>Entries of an SHT_REL or SHT_RELA section, in order.</summary>
    public IReadOnlyList<ElfRelocation> GetRelocations(ElfSection section)
    {
        bool rela = section.Type switch
        {
            ElfSectionType.Rela => true,
            ElfSectionType.Rel => false,
            _ => throw new ArgumentException($"section {section.Name} is {section.Type}, not a relocation section", nameof(section)),
        };
        int entrySize = rela ? 24 : 16;
        if (section.EntrySize != 0 && section.EntrySize < (ulong)entrySize)
        {
            throw new MalformedDataException(Format, (long)section.Offset, $"{section.Name}: sh_entsize {section.EntrySize} < {entrySize}");
        }
        int stride = section.EntrySize == 0 ? entrySize : (int)Math.Min(section.EntrySize, int.MaxValue);
        var r = new SpanReader(section.Data.Span, Format, BigEndian, (long)section.Offset);
        var result = new ElfRelocation[r.Length / stride];
        for (int i = 0; i < result.Length; i++)
        {
            SpanReader e = r.Sub(stride);
            ulong offset = e.U64();
            ulong info = e.U64();
            long addend = rela ? e.I64() : 0;
            result[i] = new ElfRelocation(offset, (uint)(info >> 32), (uint)info, addend);
        }
        return result;
    }

    /// <summary>Maps a virtual address to its file offset through the PT_LOAD segments.</summary>
    public bool TryGetFileOffset(ulong virtualAddress, out ulong fileOffset)
    {
        foreach (ElfProgramHeader p in _programHeaders)
        {
            if (p.Type == ElfSegmentType.Load && virtualAddress >= p.VirtualAddress && virtualAddress - p.VirtualAddress < p.FileSize)
            {
                fileOffset = p.Offset + (virtualAddress - p.VirtualAddress);
                return true;
            }
        }
        fileOffset = 0;
        return false;
    }

    /// <summary>Maps a file offset to its virtual address through the PT_LOAD segments (perf mmap pgoff -> symbol address).</summary>
    public bool TryGetVirtualAddress(ulong fileOffset, out ulong virtualAddress)
    {
        foreach (ElfProgramHeader p in _programHeaders)
        {
            if (p.Type == ElfSegmentType.Load && fileOffset >= p.Offset && fileOffset - p.Offset < p.FileSize)
            {
                virtualAddress = p.VirtualAddress + (fileOffset - p.Offset);
                return true;
            }
        }
        virtualAddress = 0;
        return false;
    }

    /// <summary>Notes in a note section or segment's bytes.</summary>
    public IReadOnlyList<ElfNote> ReadNotes(ReadOnlyMemory<byte> bytes, long fileOffset, ulong alignment = 4)
    {
        int align = alignment == 8 ? 8 : 4;
        var notes = new List<ElfNote>();
        var r = new SpanReader(bytes.Span, Format, BigEndian, fileOffset);
        while (r.Remaining >= 12)
        {
            uint nameSize = r.U32();
            uint descSize = r.U32();
            uint type = r.U32();
            int nameStart = r.Position;
            ReadOnlySpan<byte> name = r.Take(checked((int)Math.Min(nameSize, int.MaxValue)));
            Pad(ref r, r.Position - nameStart, align);
            int descStart = r.Position;
            if (descSize > (uint)r.Remaining)
            {
                throw r.Error($"note descriptor of {descSize} bytes overruns the note section");
            }
            ReadOnlyMemory<byte> desc = bytes.Slice(descStart, (int)descSize);
            r.Skip((int)descSize);
            Pad(ref r, (int)descSize, align);
            int nul = name.IndexOf((byte)0);
            string nameText = System.Text.Encoding.UTF8.GetString(nul >= 0 ? name[..nul] : name);
            notes.Add(new ElfNote(nameText, type, desc));
        }
        return notes;

        static void Pad(ref SpanReader r, int length, int align)
        {
            int pad = (align - (length % align)) % align;
            r.Skip(Math.Min(pad, r.Remaining));
        }
    }

    private static ElfSection[] ReadSections(SpanReader r, ReadOnlyMemory<byte> data, ulong shoff, ushort shentsize, uint shnum, uint shstrndx)
    {
        SpanReader table = Range(r, shoff, (ulong)shentsize * shnum, "section header table");
        var raw = new (uint Name, uint Type, ulong Flags, ulong Addr, ulong Offset, ulong Size, uint Link, uint Info, ulong Align, ulong EntSize, long HeaderAt)[shnum];
        for (int i = 0; i < raw.Length; i++)
        {
            long at = table.AbsoluteOffset;
            SpanReader s = table.Sub(shentsize);
            raw[i] = (s.U32(), s.U32(), s.U64(), s.U64(), s.U64(), s.U64(), s.U32(), s.U32(), s.U64(), s.U64(), at);
        }
        if (shstrndx != 0 && shstrndx >= shnum)
        {
            throw r.Error(62, $"e_shstrndx {shstrndx} out of range ({shnum} sections)");
        }
        ReadOnlySpan<byte> names = default;
        long namesAt = 0;
        if (shstrndx != 0)
        {
            var n = raw[shstrndx];
            if ((ElfSectionType)n.Type == ElfSectionType.NoBits)
            {
                throw r.Error(n.HeaderAt, "section name table is SHT_NOBITS");
            }
            names = Range(r, n.Offset, n.Size, "section name table").Take((int)n.Size);
            namesAt = (long)n.Offset;
        }
        var sections = new ElfSection[shnum];
        var nameReader = new SpanReader(names, Format, r.BigEndian, namesAt);
        for (int i = 0; i < raw.Length; i++)
        {
            var h = raw[i];
            string name = "";
            if (h.Name != 0 || names.Length > 0)
            {
                if (names.Length == 0)
                {
                    throw r.Error(h.HeaderAt, $"section {i} has a name but there is no section name table");
                }
                name = nameReader.CString(checked((int)Math.Min(h.Name, int.MaxValue)));
            }
            ReadOnlyMemory<byte> bytes = ReadOnlyMemory<byte>.Empty;
            var type = (ElfSectionType)h.Type;
            if (type is not (ElfSectionType.NoBits or ElfSectionType.Null) && h.Size != 0)
            {
                if (h.Offset > (ulong)data.Length || h.Size > (ulong)data.Length - h.Offset)
                {
                    throw r.Error(h.HeaderAt, $"section {i} '{name}' [0x{h.Offset:x}, +0x{h.Size:x}) lies outside the {data.Length}-byte file");
                }
                bytes = data.Slice((int)h.Offset, (int)h.Size);
            }
            sections[i] = new ElfSection(i, name, h.Name, type, h.Flags, h.Addr, h.Offset, h.Size, h.Link, h.Info, h.Align, h.EntSize, bytes);
        }
        return sections;
    }

    private IReadOnlyList<ElfSymbol> ReadSymbols(ElfSectionType kind)
    {
        ElfSection? table = null;
        foreach (ElfSection s in _sections)
        {
            if (s.Type == kind)
            {
                table = s;
                break;
            }
        }
        if (table is null)
        {
            return [];
        }
        if ((uint)table.Link >= (uint)_sections.Length || _sections[table.Link].Type != ElfSectionType.StrTab)
        {
            throw new MalformedDataException(Format, (long)table.Offset, $"{table.Name}: sh_link {table.Link} is not a string table");
        }
        ElfSection strtab = _sections[table.Link];
        int stride = table.EntrySize == 0 ? SymbolSize : (int)Math.Min(table.EntrySize, int.MaxValue);
        if (stride < SymbolSize)
        {
            throw new MalformedDataException(Format, (long)table.Offset, $"{table.Name}: sh_entsize {table.EntrySize} < {SymbolSize}");
        }
        var r = new SpanReader(table.Data.Span, Format, BigEndian, (long)table.Offset);
        var strings = new SpanReader(strtab.Data.Span, Format, BigEndian, (long)strtab.Offset);
        var symbols = new ElfSymbol[r.Length / stride];
        for (int i = 0; i < symbols.Length; i++)
        {
            SpanReader e = r.Sub(stride);
            uint nameOffset = e.U32();
            byte info = e.U8();
            byte other = e.U8();
            ushort shndx = e.U16();
            ulong value = e.U64();
            ulong size = e.U64();
            string name = nameOffset == 0 ? "" : strings.CString((int)Math.Min(nameOffset, int.MaxValue));
            symbols[i] = new ElfSymbol(i, name, value, size, (ElfSymbolType)(info & 0xf), (ElfSymbolBinding)(info >> 4), (byte)(other & 3), shndx);
        }
        return symbols;
    }

    private IReadOnlyList<ElfNote> ReadAllNotes()
    {
        var notes = new List<ElfNote>();
        bool any = false;
        foreach (ElfSection s in _sections)
        {
            if (s.Type == ElfSectionType.Note)
            {
                any = true;
                notes.AddRange(ReadNotes(s.Data, (long)s.Offset, s.Alignment));
            }
        }
        if (!any)
        {
            foreach (ElfProgramHeader p in _programHeaders)
            {
                if (p.Type == ElfSegmentType.Note)
                {
                    if (p.Offset > (ulong)_data.Length || p.FileSize > (ulong)_data.Length - p.Offset)
                    {
                        throw new MalformedDataException(Format, (long)Math.Min(p.Offset, long.MaxValue), "PT_NOTE segment lies outside the file");
                    }
                    notes.AddRange(ReadNotes(_data.Slice((int)p.Offset, (int)p.FileSize), (long)p.Offset, p.Alignment));
                }
            }
        }
        return notes;
    }

    private string? FindBuildId()
    {
        ElfSection? section = GetSection(".note.gnu.build-id");
        IReadOnlyList<ElfNote> notes = section is not null && section.Type == ElfSectionType.Note
            ? ReadNotes(section.Data, (long)section.Offset, section.Alignment)
            : Notes;
        foreach (ElfNote n in notes)
        {
            if (n.Type == ElfNote.GnuBuildId && n.Name == "GNU")
            {
                return Convert.ToHexStringLower(n.Descriptor.Span);
            }
        }
        return null;
    }

    private static SpanReader Range(SpanReader r, ulong offset, ulong size, string what)
    {
        if (offset > (ulong)r.Length || size > (ulong)r.Length - offset)
        {
            throw r.Error((long)Math.Min(offset, (ulong)r.Length), $"{what} [0x{offset:x}, +0x{size:x}) lies outside the {r.Length}-byte file");
        }
        return r.Slice((int)offset, (int)size);
    }
}
