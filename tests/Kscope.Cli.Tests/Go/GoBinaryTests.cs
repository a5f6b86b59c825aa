using System.Text;
using Kscope.Cli.Infrastructure;
using Kscope.Diagnostics.Symbols;
using Kscope.Formats;
using Kscope.Formats.Elf;
using Kscope.Formats.Go;

namespace Kscope.Cli.Tests.Go;

/// <summary>Go pclntab symbolization and build info, against go tool addr2line and go version -m.</summary>
public class GoBinaryTests
{
    private static string DebianGo => Directory.GetDirectories("/usr/lib", "go-*").Select(d => Path.Combine(d, "bin", "go")).FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException("no /usr/lib/go-*/bin/go");

    private static (int Code, string Out) Run(params string[] args)
    {
        var console = new StringConsole();
        int code = KscopeCli.Invoke(console, args);
        return (code, console.OutText + console.ErrorText);
    }

    [Fact]
    public void BuildInfo_TestProgramsAndDebianGo_MatchGoVersionM()
    {
        foreach (string binary in new[] { GoProgram.Exe, GoProgram.Stripped, DebianGo })
        {
            string expected = GoProgram.Go("version", "-m", binary);
            var (code, output) = Run("buildinfo", binary);
            Assert.Equal(ExitCodes.Ok, code);
            Assert.Equal(expected, output);
        }
    }

    [Fact]
    public void Symbolize_NormalAndStripped_MatchGoToolAddr2line()
    {
        foreach (string binary in new[] { GoProgram.Exe, GoProgram.Stripped })
        {
            var symbolizer = BinarySymbolizer.Load(binary);
            Assert.True(symbolizer.IsGo);
            GoPclnTable table = symbolizer.GoTable!;
            var rng = new Random(18);
            List<GoFunction> functions = table.Functions().ToList();
            var pcs = new List<ulong>();
            for (int i = 0; i < 300; i++)
            {
                GoFunction f = functions[rng.Next(functions.Count)];
                pcs.Add(f.Entry + (ulong)rng.NextInt64(0, (long)Math.Max(1, f.End - f.Entry)));
            }
            GoFunction hot = functions.Single(f => f.Name == "main.hotInner");
            pcs.Add(hot.Entry + 5);
            string input = string.Join('\n', pcs.Select(p => $"0x{p:x}")) + "\n";
            string[] lines = GoAddr2line(binary, input);
            Assert.Equal(pcs.Count * 2, lines.Length);
            int inlined = 0;
            for (int i = 0; i < pcs.Count; i++)
            {
                IReadOnlyList<GoFrame> frames = table.Lookup(pcs[i]);
                Assert.NotEmpty(frames);
                inlined += frames.Count - 1;
                // Go 1.19's addr2line (debug/gosym) names the outer function and the innermost file:line.
                Assert.Equal(lines[2 * i], frames[^1].Function);
                if (frames[0].Line >= 0)
                {
                    Assert.Equal(lines[2 * i + 1], $"{frames[0].File}:{frames[0].Line}");
                }
            }
            Assert.True(inlined > 0, "no inlined frames among 300 random pcs");
            var (code, output) = Run("symbolize", binary, $"0x{hot.Entry + 5:x}");
            Assert.Equal(ExitCodes.Ok, code);
            Assert.Contains("main.hotInner", output, StringComparison.Ordinal);
            Assert.Contains("main.go:", output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void PclnTab_WithoutSectionName_FoundByScanning()
    {
        byte[] bytes = File.ReadAllBytes(GoProgram.Stripped);
        // Rename ".gopclntab" in the section name table: the reader must find the table by its magic.
        byte[] name = Encoding.ASCII.GetBytes(".gopclntab\0");
        int at = bytes.AsSpan().IndexOf(name);
        Assert.True(at > 0);
        bytes[at + 1] = (byte)'x';
        ElfFile elf = ElfFile.Parse(bytes);
        Assert.Null(elf.GetSection(".gopclntab"));
        GoPclnTable? table = GoPclnTable.FromElf(elf);
        Assert.NotNull(table);
        Assert.Contains(table.Functions(), f => f.Name == "main.hotInner");
    }

    [Fact]
    public void PclnTab_PrefixesAndMutations_ParseOrThrowTyped()
    {
        ElfFile elf = ElfFile.Parse(File.ReadAllBytes(GoProgram.Stripped));
        ElfSection section = elf.GetSection(".gopclntab")!;
        byte[] table = section.Data.ToArray();
        GoPclnTable good = GoPclnTable.Parse(table);
        ulong[] pcs = good.Functions().Take(2000).Select(f => f.Entry + 1).ToArray();
        var rng = new Random(5);
        void Probe(byte[] data)
        {
            try
            {
                GoPclnTable t = GoPclnTable.Parse(data);
                for (int k = 0; k < 20; k++)
                {
                    t.Lookup(pcs[rng.Next(pcs.Length)]);
                }
                t.Functions().Take(50).ToList();
            }
            catch (MalformedDataException)
            {
            }
        }
        for (int n = 0; n < 200; n++)
        {
            Probe(table[..n]);
        }
        for (int i = 0; i < 100; i++)
        {
            Probe(table[..rng.Next(table.Length)]);
        }
        for (int i = 0; i < 500; i++)
        {
            byte[] m = (byte[])table.Clone();
            // Mutate the header, functab and _func records, where the pointers are.
            int limit = Math.Min(m.Length, 200_000);
            for (int k = 0; k < 1 + rng.Next(4); k++)
            {
                m[rng.Next(limit)] = (byte)rng.Next(256);
            }
            Probe(m);
        }
    }

    /// <summary>
    /// A Go 1.16-1.17 table (magic 0xfffffffa: no text start in the header, functab and _func entries
    /// as absolute pointer-sized pcs) made from a real Go 1.19 table by rewriting only those parts:
    /// no Debian suite still serves a Go 1.16/1.17 toolchain to build one.
    /// </summary>
    [Fact]
    public void PclnTab_Go116LayoutOfARealTable_ReadsTheSameFunctionsAndLines()
    {
        byte[] t118 = ElfFile.Parse(File.ReadAllBytes(GoProgram.Stripped)).GetSection(".gopclntab")!.Data.ToArray();
        GoPclnTable original = GoPclnTable.Parse(t118);
        Assert.Equal(GoPclnTable.Magic118, original.Magic);
        ulong W(int word) => BitConverter.ToUInt64(t118, 8 + word * 8);
        ulong nfunc = W(0), text = W(2), pcln = W(7);
        var t116 = new List<byte>(t118);
        // Header: nfunc, nfiles, funcname, cu, filetab, pctab, pcln (7 words; the 8th word is left unused).
        var header = new List<byte>(BitConverter.GetBytes(GoPclnTable.Magic116));
        header.AddRange(t118.AsSpan(4, 4).ToArray());
        foreach (ulong w in new[] { nfunc, W(1), W(3), W(4), W(5), W(6), (ulong)t118.Length })
        {
            header.AddRange(BitConverter.GetBytes(w));
        }
        for (int i = 0; i < header.Count; i++)
        {
            t116[i] = header[i];
        }
        // New pcln region at the end: functab {pc u64, funcOff u64}, end pc, then the _func records with a u64 entry.
        var region = new List<byte>();
        var funcs = new List<byte>();
        long functabSize = ((long)nfunc * 2 + 1) * 8;
        for (int i = 0; i <= (int)nfunc; i++)
        {
            uint entryOff = BitConverter.ToUInt32(t118, (int)pcln + i * 8);
            region.AddRange(BitConverter.GetBytes(text + entryOff));
            if (i == (int)nfunc)
            {
                break;
            }
            uint funcOff = BitConverter.ToUInt32(t118, (int)pcln + i * 8 + 4);
            region.AddRange(BitConverter.GetBytes((ulong)(functabSize + funcs.Count)));
            int at = (int)(pcln + funcOff);
            funcs.AddRange(BitConverter.GetBytes(text + BitConverter.ToUInt32(t118, at)));
            funcs.AddRange(t118.AsSpan(at + 4, 36).ToArray()); // nameOff … cuOffset, funcID/flag/pad/nfuncdata (no pcdata read in 1.16)
            funcs.AddRange(new byte[4]);
        }
        region.AddRange(funcs);
        t116.AddRange(region);
        GoPclnTable table = GoPclnTable.Parse(t116.ToArray());
        Assert.Equal("go1.16-1.17", table.FormatVersion);
        Assert.Equal(original.TextStart, table.TextStart);
        Assert.Equal(original.End, table.End);
        Assert.Equal(original.Functions().ToList(), table.Functions().ToList());
        var rng = new Random(16);
        foreach (GoFunction f in original.Functions().Where((_, i) => i % 7 == 0))
        {
            ulong pc = f.Entry + (ulong)rng.NextInt64(0, (long)(f.End - f.Entry));
            GoFrame want = original.Lookup(pc)[0];
            GoFrame got = table.Lookup(pc)[^1]; // no inline tree in 1.16: the function, innermost file:line
            Assert.Equal(f.Name, got.Function);
            Assert.Equal((want.File, want.Line), (got.File, got.Line));
        }
    }

    [Fact]
    public void BuildInfo_Mutations_ParseOrThrowTyped()
    {
        ElfFile elf = ElfFile.Parse(File.ReadAllBytes(GoProgram.Exe));
        byte[] blob = elf.GetSection(".go.buildinfo")!.Data.ToArray();
        for (int n = 0; n <= blob.Length; n++)
        {
            try
            {
                GoBuildInfo.Parse(blob.AsSpan(0, n));
            }
            catch (MalformedDataException)
            {
            }
        }
    }

    [Fact]
    public void BuildInfo_NotGo_FailsWithOneLine()
    {
        var (code, output) = Run("buildinfo", "/bin/sh");
        Assert.Equal(ExitCodes.Error, code);
        Assert.Contains("not a Go binary", output, StringComparison.Ordinal);
    }

    internal static string[] GoAddr2line(string binary, string input, string go = "go")
    {
        var psi = new System.Diagnostics.ProcessStartInfo(go) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("tool");
        psi.ArgumentList.Add("addr2line");
        psi.ArgumentList.Add(binary);
        psi.Environment["GOCACHE"] = Path.Combine(Path.GetTempPath(), "kscope-gocache");
        using var p = System.Diagnostics.Process.Start(psi)!;
        p.StandardInput.Write(input);
        p.StandardInput.Close();
        Task<string> err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, err.Result);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }
}
