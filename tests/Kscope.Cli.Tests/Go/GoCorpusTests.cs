using System.Text;
using Kscope.Formats.Elf;
using Kscope.Formats.Go;

namespace Kscope.Cli.Tests.Go;

/// <summary>
/// kscope's pclntab reader against Go's own debug/gosym (gosymoracle) on every binary of the Go
/// corpus (tests/corpus/go-corpus): Debian packages' Go binaries (amd64 and arm64, EXEC and PIE,
/// cgo and externally linked) and corpusprog built with every Go toolchain Debian offers in eight
/// layouts. Writes the per-binary table to artifacts/go-corpus/report.tsv.
/// </summary>
public class GoCorpusTests
{
    private const int ElfMachineX86_64 = 62;

    private sealed record Result(string Label, string Format, string Where, int Relocs, int Functions, int EntriesEqual, int Samples, int SamplesEqual, List<string> Diffs)
    {
        public double EntryShare => Functions == 0 ? 1 : (double)EntriesEqual / Functions;

        public double SampleShare => Samples == 0 ? 1 : (double)SamplesEqual / Samples;
    }

    private static string Norm(string file) => file is "" or "?" ? "?" : file;

    private static Result Compare(string label, string path, OracleDump oracle)
    {
        ElfFile elf = ElfFile.Parse(File.ReadAllBytes(path));
        GoPclnTable? table = GoPclnTable.FromElf(elf);
        var diffs = new List<string>();
        if (table is null)
        {
            diffs.Add("kscope found no pclntab");
            return new Result(label, "-", "-", 0, oracle.Functions.Count, 0, oracle.Samples.Count, 0, diffs);
        }
        if (table.TextStart != oracle.TextStart)
        {
            diffs.Add($"text start 0x{table.TextStart:x}, oracle 0x{oracle.TextStart:x}");
        }
        int entries = 0;
        foreach (OracleDump.Function f in oracle.Functions)
        {
            GoFunction? k = table.FindFunction(f.Entry);
            IReadOnlyList<GoFrame> frames = table.Lookup(f.Entry);
            string got = k is { } g && frames.Count > 0
                ? $"{g.Name} 0x{g.Entry:x}-0x{g.End:x} {Norm(frames[0].File)}:{frames[0].Line} outer={frames[^1].Function}"
                : "none";
            string want = $"{f.Name} 0x{f.Entry:x}-0x{f.End:x} {Norm(f.File)}:{f.Line} outer={f.Name}";
            if (got == want)
            {
                entries++;
            }
            else if (diffs.Count < 10)
            {
                diffs.Add($"entry 0x{f.Entry:x}: kscope {got}, oracle {want}");
            }
        }
        int samples = 0;
        foreach (OracleDump.Sample s in oracle.Samples)
        {
            IReadOnlyList<GoFrame> frames = table.Lookup(s.Pc);
            // debug/gosym names the function the pc is in and the innermost (inlined) file:line.
            // Both say line -1 in the padding between functions (past the end of the pc-line table).
            string got = frames.Count > 0 ? $"{frames[^1].Function} {Norm(frames[0].File)}:{frames[0].Line}" : "none";
            string want = $"{s.Function} {Norm(s.File)}:{s.Line}";
            if (got == want)
            {
                samples++;
            }
            else if (diffs.Count < 20)
            {
                diffs.Add($"pc 0x{s.Pc:x}: kscope {got}, oracle {want}");
            }
        }
        return new Result(label, table.FormatVersion, table.Location, table.RelocationsApplied, oracle.Functions.Count, entries, oracle.Samples.Count, samples, diffs);
    }

    [Fact]
    public void PclnTab_EveryCorpusBinary_MatchesDebugGosym()
    {
        var results = new List<Result>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        int debianBinaries = 0, built = 0;
        foreach (var (label, path, _) in GoCorpus.Binaries())
        {
            if (GoCorpus.Oracle(path) is not { } oracle)
            {
                continue; // not a Go binary
            }
            if (!seen.Add(label))
            {
                continue;
            }
            if (label.Contains("/corpusprog-", StringComparison.Ordinal))
            {
                built++;
            }
            else
            {
                debianBinaries++;
            }
            results.Add(Compare(label, path, oracle));
        }
        var report = new StringBuilder("binary\tformat\ttable\trelocs\tfunctions\tentries_equal\tsamples\tsamples_equal\n");
        foreach (Result r in results)
        {
            report.Append(System.FormattableString.Invariant($"{r.Label}\t{r.Format}\t{r.Where}\t{r.Relocs}\t{r.Functions}\t{r.EntryShare:P2}\t{r.Samples}\t{r.SampleShare:P3}\n"));
        }
        string dir = Path.Combine(Tools.RepoRoot, "artifacts", "go-corpus");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "report.tsv"), report.ToString());
        TestContext.Current.SendDiagnosticMessage(report.ToString());
        Assert.True(debianBinaries >= 20, $"only {debianBinaries} Debian Go binaries in the corpus");
        Assert.True(built >= 40, $"only {built} built corpus programs");
        // The Go 1.2-1.15 format, 1.18-1.19 and 1.20+ are all present; 1.16-1.17 only where a toolchain is served.
        Assert.Contains(results, r => r.Format == "go1.2-1.15");
        Assert.Contains(results, r => r.Format == "go1.18-1.19");
        Assert.Contains(results, r => r.Format == "go1.20+");
        Assert.Contains(results, r => r.Relocs > 0);
        var bad = results.Where(r => r.EntriesEqual != r.Functions || r.SampleShare < 0.999).ToList();
        Assert.True(bad.Count == 0, string.Join("\n", bad.Select(r => $"{r.Label}: entries {r.EntryShare:P2}, samples {r.SampleShare:P3}\n  " + string.Join("\n  ", r.Diffs))));
    }

    /// <summary>Go's stack-check prologue at a function entry (amd64: Go 1.17+ and before; arm64).</summary>
    private static bool IsGoPrologue(ReadOnlySpan<byte> b, bool amd64)
    {
        if (!amd64)
        {
            return b.Length >= 4 && b[..4].SequenceEqual(new byte[] { 0x90, 0x0b, 0x40, 0xf9 }); // ldr x16, [x28, #16]
        }
        // Go 1.17+ (g in r14): cmp 0x10(%r14),%rsp; or lea -N(%rsp),%r12 then cmp 0x10(%r14),%r12.
        if (b.StartsWith(new byte[] { 0x49, 0x3b, 0x66, 0x10 }))
        {
            return true;
        }
        if (b.Length >= 9 && b.StartsWith(new byte[] { 0x4c, 0x8d, 0x64, 0x24 }) && b[5..9].SequenceEqual(new byte[] { 0x4d, 0x3b, 0x66, 0x10 }))
        {
            return true;
        }
        if (b.Length >= 12 && b.StartsWith(new byte[] { 0x4c, 0x8d, 0xa4, 0x24 }) && b[8..12].SequenceEqual(new byte[] { 0x4d, 0x3b, 0x66, 0x10 }))
        {
            return true;
        }
        // Before Go 1.17: mov %fs:0xfffffffffffffff8,%rcx; PIE: mov $-8,%rcx; mov %fs:(%rcx),%rcx (or mov x(%rip),%rcx first).
        return b.StartsWith(new byte[] { 0x64, 0x48, 0x8b, 0x0c, 0x25, 0xf8, 0xff, 0xff, 0xff }) ||
            b.StartsWith(new byte[] { 0x48, 0xc7, 0xc1, 0xf8, 0xff, 0xff, 0xff, 0x64, 0x48, 0x8b, 0x09 }) ||
            (b.Length >= 11 && b.StartsWith(new byte[] { 0x48, 0x8b, 0x0d }) && b[7..11].SequenceEqual(new byte[] { 0x64, 0x48, 0x8b, 0x09 }));
    }

    private static byte[]? BytesAt(ElfFile elf, ulong address)
    {
        foreach (ElfSection s in elf.Sections)
        {
            if (s.IsExecutable && s.Type == ElfSectionType.ProgBits && address >= s.Address && address + 16 <= s.Address + (ulong)s.Data.Length)
            {
                return s.Data.Slice((int)(address - s.Address), 16).ToArray();
            }
        }
        return null;
    }

    [Fact]
    public void Oracle_EntriesOfEveryCorpusBinary_StartWithGoPrologue()
    {
        var failures = new List<string>();
        int checkedBinaries = 0, shifted = 0;
        foreach (var (label, path, arch) in GoCorpus.Binaries())
        {
            if (GoCorpus.Oracle(path) is not { } oracle || oracle.EntryBytes.Count < 10)
            {
                continue;
            }
            checkedBinaries++;
            bool amd64 = arch == "amd64";
            double share = oracle.EntryBytes.Count(e => IsGoPrologue(e.Bytes, amd64)) / (double)oracle.EntryBytes.Count;
            // Functions marked NOSPLIT (much of a small program's runtime) and cgo's C functions have no stack check.
            if (share < 0.25)
            {
                failures.Add($"{label}: {share:P0} of {oracle.EntryBytes.Count} oracle entries start with a Go prologue");
            }
            if (oracle.TextStart != oracle.ElfText)
            {
                // What a reader taking .text as Go's text start (Go 1.19's objfile) would call the entries.
                ElfFile elf = ElfFile.Parse(File.ReadAllBytes(path));
                long delta = (long)oracle.ElfText - (long)oracle.TextStart;
                var wrong = oracle.EntryBytes.Select(e => BytesAt(elf, (ulong)((long)e.Entry + delta))).Where(b => b is not null).ToList();
                double wrongShare = wrong.Count(b => IsGoPrologue(b!, amd64)) / (double)Math.Max(1, wrong.Count);
                // A shift by a multiple of the 32-byte function alignment lands on another entry now and then.
                if (wrongShare > share / 2)
                {
                    failures.Add($"{label}: .text-based entries look like prologues too ({wrongShare:P0}, oracle's {share:P0}): the check proves nothing");
                }
                shifted++;
            }
        }
        Assert.True(checkedBinaries >= 50, $"only {checkedBinaries} binaries checked");
        Assert.True(shifted >= 5, $"only {shifted} binaries whose text start is not .text (cgo, external linking)");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void GoToolAddr2line119_StrippedCgoBinary_IsOffByTheCCodeBeforeRuntimeText()
    {
        GoCorpus.Entry go119 = GoCorpus.Manifest().Single(e => e.Kind == "built" && e.Version.StartsWith("go1.19", StringComparison.Ordinal) && e.Name == "corpusprog-cgo-external-exe-stripped");
        OracleDump oracle = GoCorpus.Oracle(go119.Path)!;
        Assert.NotEqual(oracle.ElfText, oracle.TextStart); // C code (crt, runtime/cgo) precedes runtime.text
        OracleDump.Function work = oracle.Functions.Single(f => f.Name == "main.main");
        GoPclnTable table = GoPclnTable.FromElf(ElfFile.Parse(File.ReadAllBytes(go119.Path)))!;
        Assert.Equal("main.main", table.FindFunction(work.Entry)?.Name);
        Assert.True(IsGoPrologue(BytesAt(ElfFile.Parse(File.ReadAllBytes(go119.Path)), work.Entry), true), "no Go prologue at the oracle's entry of main.main");

        // Go 1.19's own addr2line (the corpus's golang-1.19-go) takes .text as the text start on a
        // binary without symbols (no runtime.text to correct it), so it looks every pc up
        // (runtime.text - .text) bytes further on: at the entries of functions shorter than that it
        // names another function, the one kscope and the oracle find at the shifted pc.
        string goroot = GoCorpus.Manifest().Single(e => e.Kind == "go" && e.Name == "golang-1.19-go").Path;
        ulong delta = oracle.TextStart - oracle.ElfText;
        List<OracleDump.Function> shortOnes = oracle.Functions.Where(f => f.End - f.Entry < delta && f.Entry + delta < table.End).Take(100).ToList();
        Assert.True(shortOnes.Count >= 50, $"only {shortOnes.Count} functions shorter than 0x{delta:x}");
        string[] lines = GoBinaryTests.GoAddr2line(go119.Path, string.Concat(shortOnes.Select(f => $"0x{f.Entry:x}\n")), Path.Combine(goroot, "bin", "go"));
        Assert.Equal(shortOnes.Count * 2, lines.Length);
        for (int i = 0; i < shortOnes.Count; i++)
        {
            Assert.Equal(shortOnes[i].Name, table.FindFunction(shortOnes[i].Entry)?.Name);
            Assert.NotEqual(shortOnes[i].Name, lines[2 * i]);
            Assert.Equal(table.FindFunction(shortOnes[i].Entry + delta)?.Name ?? "?", lines[2 * i]);
        }
    }

    [Fact]
    public void PclnTab_SplitTextPpc64le_EveryFunctionAtItsSymbolTableAddress()
    {
        // corpusprog for ppc64le, externally linked with a 256 KiB text section limit: three text sections, and the
        // external linker's stubs between them, so entry offsets of the unsplit layout are not addresses any more.
        GoCorpus.Entry? split = GoCorpus.Manifest().SingleOrDefault(e => e.Kind == "split");
        if (split is null)
        {
            Requires.Unmet("the Go corpus has no split-text binary (tests/corpus/go-corpus builds it with gcc-powerpc64le-linux-gnu)");
        }
        GoPclnTable table = GoPclnTable.FromElf(ElfFile.Parse(File.ReadAllBytes(split!.Path)))!;
        Assert.True(table.TextSections.Count >= 3, $"{table.TextSections.Count} text sections in moduledata.textsectmap");
        Assert.Equal(table.TextStart, table.TextSections[0].BaseAddress);
        // The oracle: the ELF symbol table through `go tool nm` (debug/gosym ignores textsectmap: it would be wrong too).
        string go = Path.Combine(GoCorpus.NewestGoRoot(), "bin", "go");
        var (code, nm, err) = Tools.Run(go, "tool", "nm", split.Path);
        Assert.True(code == 0, $"go tool nm: {err}");
        var perSection = new int[table.TextSections.Count];
        var wrong = new List<string>();
        int compared = 0;
        foreach (string line in nm.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] f = line.Trim().Split(' ', 3);
            if (f.Length != 3 || f[1] is not ("T" or "t"))
            {
                continue;
            }
            string name = f[2].EndsWith(".abi0", StringComparison.Ordinal) ? f[2][..^5] : f[2];
            // Go functions only: not C (no package), not the linker's trampolines or section markers.
            if (!name.Contains('.', StringComparison.Ordinal) || name.Contains("-tramp", StringComparison.Ordinal) ||
                name.StartsWith("runtime.text", StringComparison.Ordinal) || name.StartsWith("runtime.etext", StringComparison.Ordinal) || name.StartsWith("go:", StringComparison.Ordinal))
            {
                continue;
            }
            ulong address = ulong.Parse(f[0], System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
            if (address < table.TextStart || address >= table.End)
            {
                continue;
            }
            compared++;
            int section = 0;
            for (int i = 0; i < table.TextSections.Count; i++)
            {
                if (address >= table.TextSections[i].BaseAddress)
                {
                    section = i;
                }
            }
            perSection[section]++;
            GoFunction? found = table.FindFunction(address);
            if (found is null || found.Value.Name.Replace('·', '.') != name.Replace('·', '.') || found.Value.Entry != address)
            {
                wrong.Add($"0x{address:x} {name} (section {section}): kscope {found?.Name ?? "??"} at 0x{found?.Entry ?? 0:x}");
            }
        }
        TestContext.Current.SendDiagnosticMessage($"split text: {table.TextSections.Count} sections, {compared} functions compared, per section {string.Join(", ", perSection)}");
        Assert.True(compared >= 1000, $"only {compared} Go functions in the symbol table");
        Assert.All(perSection, n => Assert.True(n >= 100, $"a text section with only {n} functions: {string.Join(", ", perSection)}"));
        Assert.True(wrong.Count == 0, $"{wrong.Count} of {compared} functions not at their symbol table address:\n" + string.Join("\n", wrong.Take(30)));
    }
}
