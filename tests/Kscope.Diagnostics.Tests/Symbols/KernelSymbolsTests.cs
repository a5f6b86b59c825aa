using Kscope.Diagnostics.Symbols;
using Kscope.Formats;
using Kscope.TestKit;

namespace Kscope.Diagnostics.Tests.Symbols;

public sealed class KernelSymbolsTests
{
    private const string Sample = "ffffffff81000000 T _stext\nffffffff81000100 t helper\nffffffff81000200 D some_data\nffffffffc0000000 t mod_fn\t[nf_tables]\n";

    [Fact]
    public void Resolve_InsideFunction_NamesFunctionOffsetAndModule()
    {
        KernelSymbols k = KernelSymbols.Parse(Sample);
        Assert.Equal(3, k.Count);
        Assert.Equal("_stext+0x10", k.Resolve(0xffffffff81000010));
        Assert.Equal("helper+0x150", k.Resolve(0xffffffff81000250)); // data symbols are skipped
        Assert.Equal("mod_fn+0x8 [nf_tables]", k.Resolve(0xffffffffc0000008));
        Assert.Equal("0x1000", k.Resolve(0x1000));
    }

    [Fact]
    public void Parse_BadLine_ThrowsWithLineNumber()
    {
        MalformedDataException e = Assert.Throws<MalformedDataException>(() => KernelSymbols.Parse("ffffffff81000000 T ok\nnot a symbol line at all\n"));
        Assert.Contains("2", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", "Kernel")]
    public void Load_RunningKernel_ResolvesAKnownFunction()
    {
        Requires.Root();
        string line = File.ReadLines("/proc/kallsyms").First(l => l.EndsWith(" T ksys_read", StringComparison.Ordinal) || l.EndsWith(" T __x64_sys_read", StringComparison.Ordinal));
        ulong address = Convert.ToUInt64(line[..line.IndexOf(' ', StringComparison.Ordinal)], 16);
        Assert.StartsWith(line[(line.LastIndexOf(' ') + 1)..] + "+0x4", KernelSymbols.Load().Resolve(address + 4), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_LinesOutOfOrder_ResolveAsWhenSorted()
    {
        string[] lines = Sample.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        KernelSymbols k = KernelSymbols.Parse(string.Join('\n', lines.Reverse()) + "\n  ffffffff81000080   T\tspaced  \n");
        Assert.Equal(4, k.Count);
        Assert.Equal("_stext+0x10", k.Resolve(0xffffffff81000010));
        Assert.Equal("spaced+0x8", k.Resolve(0xffffffff81000088));
        Assert.Equal("helper+0x150", k.Resolve(0xffffffff81000250));
        Assert.Equal("mod_fn+0x8 [nf_tables]", k.Resolve(0xffffffffc0000008));
    }

    [Theory]
    [InlineData("ffffffff81000000 T\n")]
    [InlineData("ffffffff81000000 TT name\n")]
    [InlineData("zzzz T name\n")]
    public void Parse_MalformedLine_ThrowsWithLineNumber(string line)
    {
        MalformedDataException e = Assert.Throws<MalformedDataException>(() => KernelSymbols.Parse("ffffffff81000000 T ok\n" + line));
        Assert.Contains("2", e.Message, StringComparison.Ordinal);
    }

    /// <summary>Every text symbol of the running kernel is found at its own address (+0x0), as many as kallsyms lists.</summary>
    [Fact]
    [Trait("Category", "Kernel")]
    public void Load_RunningKernel_EveryTextSymbolAtItsAddress()
    {
        Requires.Root();
        var text = File.ReadLines("/proc/kallsyms").Select(l => l.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
            .Where(p => p[1] is "t" or "T" or "w" or "W" && p[0].Trim('0').Length > 0).ToList();
        KernelSymbols k = KernelSymbols.Load();
        Assert.InRange(k.Count, text.Count - 100, text.Count + 100); // bpf programs come and go between the two reads
        int wrong = text.Count(p => !k.Resolve(Convert.ToUInt64(p[0], 16)).Contains("+0x0", StringComparison.Ordinal));
        Assert.True(wrong < 100, $"{wrong} of {text.Count} text symbols not at their address");
    }
}
