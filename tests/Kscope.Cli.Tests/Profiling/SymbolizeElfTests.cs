using System.Globalization;
using Kscope.Cli.Infrastructure;
using Kscope.Cli.Tests.Go;
using Kscope.Diagnostics.Symbols;

namespace Kscope.Cli.Tests.Profiling;

/// <summary>
/// `kscope symbolize FILE` on C/C++ ELF binaries against binutils (nm, addr2line) on the same
/// addresses: Debian's shared libraries (only .dynsym), and a C program the test builds with and
/// without debug info; plus the report of unresolved addresses and a PIE Go binary vs debug/gosym.
/// </summary>
public class SymbolizeElfTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var console = new StringConsole();
        int code = Program.BuildRoot(console).Parse(args).Invoke();
        return (code, console.OutText, console.ErrorText);
    }

    /// <summary>Function symbols from `nm [-D] --defined-only -S`: address -> (size, names at that address).</summary>
    private static SortedDictionary<ulong, (ulong Size, HashSet<string> Names)> NmFunctions(string file, bool dynamic)
    {
        string nm = Requires.Tool("nm", "binutils");
        var args = new List<string> { "--defined-only", "-S" };
        if (dynamic)
        {
            args.Add("-D");
        }
        args.Add(file);
        var result = new SortedDictionary<ulong, (ulong Size, HashSet<string> Names)>();
        foreach (string line in Tools.Check(nm, [.. args]).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            // ADDRESS SIZE TYPE NAME (symbols without a size have no SIZE column)
            string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length != 4 || f[2] is not ("T" or "t" or "W" or "w" or "i"))
            {
                continue;
            }
            ulong address = ulong.Parse(f[0], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
            ulong size = ulong.Parse(f[1], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
            string name = f[3].Split('@')[0];
            if (size == 0 || address == 0)
            {
                continue;
            }
            if (!result.TryGetValue(address, out (ulong Size, HashSet<string> Names) e))
            {
                e = (size, new HashSet<string>(StringComparer.Ordinal));
                result[address] = e;
            }
            e.Names.Add(name);
        }
        return result;
    }

    public static TheoryData<string> DebianLibraries() => new("/usr/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib/x86_64-linux-gnu/libz.so.1");

    [Theory]
    [MemberData(nameof(DebianLibraries))]
    public void Symbolize_DebianSharedLibrary_MatchesNmDynamicSymbols(string library)
    {
        if (!File.Exists(library))
        {
            Requires.Unmet($"{library} missing (.ci/install-deps installs its package)");
        }
        var functions = NmFunctions(library, dynamic: true);
        Assert.True(functions.Count > 50, $"nm -D found {functions.Count} functions in {library}");
        var symbolizer = BinarySymbolizer.Load(library);
        var rng = new Random(12);
        var list = functions.ToList();
        int compared = 0;
        var wrong = new List<string>();
        for (int i = 0; i < 300; i++)
        {
            var (start, (size, names)) = list[rng.Next(list.Count)];
            ulong pc = start + (ulong)rng.NextInt64(0, (long)size);
            // Functions nested in another's range (nm lists both) are ambiguous; skip those.
            if (list.Any(o => o.Key != start && o.Key <= pc && pc < o.Key + o.Value.Size))
            {
                continue;
            }
            compared++;
            IReadOnlyList<SymbolizedFrame> frames = symbolizer.Symbolize(pc);
            if (frames.Count == 0 || !names.Contains(frames[0].Function) || frames[0].Offset != pc - start)
            {
                wrong.Add($"0x{pc:x}: kscope {(frames.Count > 0 ? frames[0].ToString() : "??")}, nm {string.Join('|', names)}+0x{pc - start:x}");
            }
        }
        Assert.True(compared > 200, $"only {compared} unambiguous addresses");
        Assert.True(wrong.Count == 0, string.Join("\n", wrong.Take(20)));
    }

    private static readonly Lazy<(string Debug, string NoDebug, string Dir)> s_cprog = new(() =>
    {
        string gcc = Requires.Tool("gcc", "gcc");
        string dir = Path.Combine(Path.GetTempPath(), $"kscope-symbolize-c-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        string src = Path.Combine(dir, "prog.c");
        var code = new System.Text.StringBuilder("#include <stdio.h>\n");
        for (int i = 0; i < 40; i++)
        {
            code.Append(System.FormattableString.Invariant($"__attribute__((noinline)) {(i % 2 == 0 ? "static " : "")}int f{i}(int x) {{ int s = 0; for (int k = 0; k < x; k++) s += k * {i + 1}; return s + x; }}\n"));
        }
        code.Append("int main(int argc, char **argv) { (void)argv; int s = 0;\n");
        for (int i = 0; i < 40; i++)
        {
            code.Append(System.FormattableString.Invariant($"  s += f{i}(argc);\n"));
        }
        code.Append("  printf(\"%d\\n\", s); return 0; }\n");
        File.WriteAllText(src, code.ToString());
        string debug = Path.Combine(dir, "prog-g");
        string nodebug = Path.Combine(dir, "prog");
        Tools.Check(gcc, "-O0", "-g", "-o", debug, src);
        Tools.Check(gcc, "-O2", "-o", nodebug, src);
        return (debug, nodebug, dir);
    });

    [Fact]
    public void Symbolize_BuiltCProgramWithAndWithoutDebugInfo_MatchesAddr2line()
    {
        string addr2line = Requires.Tool("addr2line", "binutils");
        foreach (string binary in new[] { s_cprog.Value.Debug, s_cprog.Value.NoDebug })
        {
            var functions = NmFunctions(binary, dynamic: false).ToList();
            var rng = new Random(3);
            var pcs = new List<ulong>();
            foreach (var (start, (size, _)) in functions)
            {
                pcs.Add(start);
                pcs.Add(start + (ulong)rng.NextInt64(0, (long)size));
            }
            string[] lines = Tools.Check(addr2line, [.. new[] { "-f", "-e", binary }.Concat(pcs.Select(p => $"0x{p:x}"))]).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(pcs.Count * 2, lines.Length);
            var (code, output, err) = Run([.. new[] { "symbolize", "--json", binary }.Concat(pcs.Select(p => $"0x{p:x}"))]);
            Assert.True(code == ExitCodes.Ok, $"exit {code}: {err}");
            using var doc = System.Text.Json.JsonDocument.Parse(output);
            var addresses = doc.RootElement.GetProperty("addresses").EnumerateArray().ToList();
            Assert.Equal(pcs.Count, addresses.Count);
            for (int i = 0; i < pcs.Count; i++)
            {
                string kscope = addresses[i].GetProperty("frames")[0].GetProperty("function").GetString()!;
                Assert.True(lines[2 * i] == kscope, $"{Path.GetFileName(binary)} 0x{pcs[i]:x}: addr2line {lines[2 * i]}, kscope {kscope}");
            }
        }
    }

    [Fact]
    public void Symbolize_SomeAddressesInNoFunction_ReportsCountOnStderrAndExitsWarnings()
    {
        string binary = s_cprog.Value.NoDebug;
        var functions = NmFunctions(binary, dynamic: false);
        ulong main = functions.First(f => f.Value.Names.Contains("main")).Key;
        var (code, output, err) = Run("symbolize", binary, $"0x{main:x}", "0x1", $"0x{main + 1:x}");
        Assert.Equal(ExitCodes.Warnings, code);
        Assert.Contains("0x1 ??", output, StringComparison.Ordinal);
        Assert.Contains("main", output, StringComparison.Ordinal);
        Assert.Contains("1 of 3 addresses are in no function", err, StringComparison.Ordinal);
        var (okCode, _, okErr) = Run("symbolize", binary, $"0x{main:x}");
        Assert.Equal(ExitCodes.Ok, okCode);
        Assert.Equal("", okErr);
    }

    [Fact]
    public void Symbolize_DebianPieGoBinaries_MatchDebugGosymAtEntries()
    {
        foreach (var (label, path, _) in GoCorpus.Binaries().Where(b => b.Label.StartsWith("docker.io:amd64", StringComparison.Ordinal) || b.Label.StartsWith("age:amd64", StringComparison.Ordinal)))
        {
            if (GoCorpus.Oracle(path) is not { } oracle)
            {
                continue;
            }
            var rng = new Random(7);
            var sample = Enumerable.Range(0, 100).Select(_ => oracle.Functions[rng.Next(oracle.Functions.Count)]).ToList();
            var (code, output, err) = Run([.. new[] { "symbolize", "--json", path }.Concat(sample.Select(f => $"0x{f.Entry:x}"))]);
            Assert.True(code == ExitCodes.Ok, $"{label}: exit {code}: {err}");
            using var doc = System.Text.Json.JsonDocument.Parse(output);
            Assert.True(doc.RootElement.GetProperty("go").GetBoolean(), $"{label}: not read as Go");
            var addresses = doc.RootElement.GetProperty("addresses").EnumerateArray().ToList();
            Assert.Equal(sample.Count, addresses.Count);
            for (int i = 0; i < sample.Count; i++)
            {
                // frames are innermost first: the last is the function the address is in (an entry can start with an inlined call)
                var frames = addresses[i].GetProperty("frames").EnumerateArray().ToList();
                Assert.True(frames[^1].GetProperty("function").GetString() == sample[i].Name, $"{label} 0x{sample[i].Entry:x}: kscope {frames[^1]}, oracle {sample[i].Name}");
                Assert.Equal(sample[i].File, frames[0].GetProperty("file").GetString());
            }
        }
    }
}
