using System.Text.RegularExpressions;
using Kscope.Formats.Elf;

namespace Kscope.Formats.Tests.Elf;

public class ElfFileTests
{
    private const string TrueBinary = "/bin/true";

    [Fact]
    public void Parse_BinTrue_SectionsMatchReadelf()
    {
        string readelf = Requires.Tool("readelf", "binutils");
        ElfFile elf = ElfFile.Parse(File.ReadAllBytes(TrueBinary));
        Assert.Equal(ElfMachine.X86_64, elf.Machine);
        Assert.False(elf.BigEndian);
        // "  [ 1] .interp           PROGBITS         0000000000000318  00000318"
        var expected = new List<(string Name, ulong Offset)>();
        foreach (Match m in Regex.Matches(Tools.Check(readelf, "-S", "-W", TrueBinary), @"^\s*\[\s*(\d+)\]\s+(\S*)\s+\S+\s+[0-9a-f]+\s+([0-9a-f]+)", RegexOptions.Multiline))
        {
            expected.Add((m.Groups[1].Value == "0" ? "" : m.Groups[2].Value, Convert.ToUInt64(m.Groups[3].Value, 16)));
        }
        Assert.Equal(expected.Count, elf.Sections.Count);
        for (int i = 1; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Name, elf.Sections[i].Name);
            Assert.Equal(expected[i].Offset, elf.Sections[i].Offset);
        }
        Assert.NotNull(elf.GetSection(".text"));
        Assert.Null(elf.GetSection(".no-such-section"));
    }

    [Fact]
    public void BuildId_BinTrue_MatchesReadelf()
    {
        string readelf = Requires.Tool("readelf", "binutils");
        Match m = Regex.Match(Tools.Check(readelf, "-n", TrueBinary), @"Build ID: ([0-9a-f]+)");
        Assert.True(m.Success, "readelf shows no build id for /bin/true");
        Assert.Equal(m.Groups[1].Value, ElfFile.Parse(File.ReadAllBytes(TrueBinary)).BuildId);
    }

    [Fact]
    public void DynamicSymbols_BinTrue_MatchReadelfCountAndNames()
    {
        string readelf = Requires.Tool("readelf", "binutils");
        ElfFile elf = ElfFile.Parse(File.ReadAllBytes(TrueBinary));
        string output = Tools.Check(readelf, "--dyn-syms", "-W", TrueBinary);
        // "     1: 0000000000000000     0 FUNC    GLOBAL DEFAULT  UND __ctype_toupper_loc@GLIBC_2.3 (2)"
        var names = Regex.Matches(output, @"^\s*\d+:\s+[0-9a-f]+\s+\d+\s+(\w+)\s+(\w+)\s+\w+\s+\w+[ \t]*(\S*)", RegexOptions.Multiline)
            .Select(m => (Type: m.Groups[1].Value, Bind: m.Groups[2].Value, Name: m.Groups[3].Value.Split('@')[0])).ToList();
        Assert.Equal(names.Count, elf.DynamicSymbols.Count);
        for (int i = 0; i < names.Count; i++)
        {
            Assert.Equal(names[i].Name, elf.DynamicSymbols[i].Name);
            Assert.Equal(names[i].Bind, elf.DynamicSymbols[i].Binding.ToString().ToUpperInvariant());
        }
    }

    [Fact]
    public void ProgramHeaders_BinTrue_MapEntryPointToText()
    {
        ElfFile elf = ElfFile.Parse(File.ReadAllBytes(TrueBinary));
        Assert.Contains(elf.ProgramHeaders, p => p.Type == ElfSegmentType.Load && p.IsExecutable);
        ElfSection text = elf.GetSection(".text")!;
        Assert.True(elf.TryGetFileOffset(text.Address, out ulong offset));
        Assert.Equal(text.Offset, offset);
        Assert.True(elf.TryGetVirtualAddress(text.Offset, out ulong address));
        Assert.Equal(text.Address, address);
        Assert.False(elf.TryGetFileOffset(0xffff_ffff_0000_0000, out _));
    }

    [Fact]
    public void Parse_BpfObject_SymbolsAndRelocationsMatchReadelf()
    {
        string readelf = Requires.Tool("readelf", "binutils");
        ElfFile elf = ElfFile.Parse(File.ReadAllBytes(BpfTestObject.LittleEndianPath));
        Assert.Equal(ElfMachine.Bpf, elf.Machine);
        Assert.Equal(ElfFileType.Relocatable, elf.Type);
        Assert.NotNull(elf.GetSection(".BTF"));
        Assert.NotNull(elf.GetSection(".BTF.ext"));
        ElfSymbol onOpen = Assert.Single(elf.Symbols, s => s.Name == "on_open");
        Assert.Equal(ElfSymbolType.Func, onOpen.Type);
        Assert.Equal(ElfSymbolBinding.Global, onOpen.Binding);
        Assert.Equal("tracepoint/syscalls/sys_enter_openat", elf.GetSection(onOpen.SectionIndex).Name);
        Assert.Contains(elf.Symbols, s => s.Name == "counts" && s.Type == ElfSymbolType.Object && elf.GetSection(s.SectionIndex).Name == ".maps");

        ElfSection rel = Assert.Single(elf.RelocationSections, s => s.Name == ".reltracepoint/syscalls/sys_enter_openat");
        Assert.Equal(onOpen.SectionIndex, (ushort)rel.Info);
        IReadOnlyList<ElfRelocation> relocations = elf.GetRelocations(rel);
        // "000000000018  000600000001 R_BPF_64_64            0000000000000000 counts + 0"
        string output = Tools.Check(readelf, "-r", "-W", BpfTestObject.LittleEndianPath);
        string block = output[output.IndexOf("'.reltracepoint/syscalls/sys_enter_openat'", StringComparison.Ordinal)..];
        block = block[..(block.IndexOf("\n\n", StringComparison.Ordinal) is int end and > 0 ? end : block.Length)];
        var expected = Regex.Matches(block, @"^([0-9a-f]{12,16})\s+([0-9a-f]{12,16})\s+\S+\s+[0-9a-f]+\s+(\S+)", RegexOptions.Multiline).ToList();
        Assert.NotEmpty(expected);
        Assert.Equal(expected.Count, relocations.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(Convert.ToUInt64(expected[i].Groups[1].Value, 16), relocations[i].Offset);
            ulong info = Convert.ToUInt64(expected[i].Groups[2].Value, 16);
            Assert.Equal((uint)(info >> 32), relocations[i].SymbolIndex);
            ElfSymbol symbol = elf.Symbols[(int)relocations[i].SymbolIndex];
            Assert.Equal(expected[i].Groups[3].Value, symbol.Type == ElfSymbolType.Section ? elf.GetSection(symbol.SectionIndex).Name : symbol.Name);
        }
    }

    [Fact]
    public void Parse_BigEndianBpfObject_SameSectionsAndSymbols()
    {
        ElfFile le = ElfFile.Parse(File.ReadAllBytes(BpfTestObject.LittleEndianPath));
        ElfFile be = ElfFile.Parse(File.ReadAllBytes(BpfTestObject.BigEndianPath));
        Assert.True(be.BigEndian);
        Assert.Equal(le.Sections.Select(s => s.Name), be.Sections.Select(s => s.Name));
        Assert.Equal(le.Symbols.Select(s => (s.Name, s.Type, s.Binding, s.Value)), be.Symbols.Select(s => (s.Name, s.Type, s.Binding, s.Value)));
        Assert.Equal(le.RelocationSections.Select(s => le.GetRelocations(s).Count), be.RelocationSections.Select(s => be.GetRelocations(s).Count));
    }

    [Fact]
    public void Parse_Elf32_ThrowsTyped()
    {
        byte[] data = File.ReadAllBytes(TrueBinary);
        data[4] = 1;
        var e = Assert.Throws<MalformedDataException>(() => ElfFile.Parse(data));
        Assert.Equal(4, e.Offset);
        Assert.Contains("ELFCLASS32", e.Message);
    }

    [Fact]
    public void Parse_EveryPrefixOfBinTrue_ParsesOrThrowsTyped()
    {
        byte[] data = File.ReadAllBytes(TrueBinary);
        for (int length = 0; length < data.Length; length += length < 4096 ? 1 : 7)
        {
            ExerciseOrMalformed(data.AsMemory(0, length));
        }
        ExerciseOrMalformed(data);
    }

    [Fact]
    public void Parse_EveryPrefixOfBpfObject_ParsesOrThrowsTyped()
    {
        byte[] data = File.ReadAllBytes(BpfTestObject.LittleEndianPath);
        for (int length = 0; length <= data.Length; length++)
        {
            ExerciseOrMalformed(data.AsMemory(0, length));
        }
    }

    [Fact]
    public void Parse_RandomMutations_NeverCrash()
    {
        var rng = new Random(1234);
        foreach (string path in new[] { TrueBinary, BpfTestObject.LittleEndianPath, BpfTestObject.BigEndianPath })
        {
            byte[] original = File.ReadAllBytes(path);
            ElfFile clean = ElfFile.Parse(original);
            // Aim most mutations at the headers, where they matter.
            var hot = new List<(int Start, int Length)> { (0, 64) };
            foreach (ElfSection s in clean.Sections.Where(s => s.Type is ElfSectionType.SymTab or ElfSectionType.DynSym or ElfSectionType.Note or ElfSectionType.Rel or ElfSectionType.Rela))
            {
                hot.Add(((int)s.Offset, (int)s.Size));
            }
            for (int iteration = 0; iteration < 1500; iteration++)
            {
                byte[] data = (byte[])original.Clone();
                int flips = rng.Next(1, 8);
                for (int f = 0; f < flips; f++)
                {
                    int at = rng.Next(3) switch
                    {
                        0 => rng.Next(data.Length),
                        _ => PickHot(rng, hot, data.Length),
                    };
                    data[at] = (byte)rng.Next(256);
                }
                ExerciseOrMalformed(data);
            }
        }
    }

    private static int PickHot(Random rng, List<(int Start, int Length)> hot, int length)
    {
        var (start, count) = hot[rng.Next(hot.Count)];
        return Math.Min(length - 1, start + rng.Next(Math.Max(1, count)));
    }

    private static void ExerciseOrMalformed(ReadOnlyMemory<byte> data)
    {
        try
        {
            ElfFile elf = ElfFile.Parse(data);
            _ = elf.Symbols.Count + elf.DynamicSymbols.Count + elf.Notes.Count;
            _ = elf.BuildId;
            foreach (ElfSection s in elf.RelocationSections)
            {
                _ = elf.GetRelocations(s);
            }
        }
        catch (MalformedDataException)
        {
        }
    }
}
