using BenchmarkDotNet.Attributes;
using Kscope.Diagnostics.Symbols;
using Kscope.Formats.Elf;
using Kscope.Formats.Go;

namespace Kscope.Bench.Profile;

/// <summary>
/// Symbolization speed per binary kind (issue 12): open + index of a big PIE Go binary (Debian's
/// dockerd: read, find the pclntab in .data.rel.ro, apply its relocation), and 10,000 random
/// addresses through BinarySymbolizer for dockerd (Go, PIE), etcd (Go, EXEC) and libc (ELF .dynsym).
/// The Go binaries come from the corpus (tests/corpus/go-corpus); bench/symbolize/run compares with
/// go tool addr2line and binutils addr2line on the same addresses.
/// </summary>
[MemoryDiagnoser]
public class SymbolizeBenchmarks
{
    private const string Libc = "/usr/lib/x86_64-linux-gnu/libc.so.6";
    private string _path = "";
    private readonly Dictionary<string, (BinarySymbolizer Symbolizer, ulong[] Pcs)> _binaries = [];

    [Params("dockerd", "etcd", "libc")]
    public string Binary { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        string corpus = Path.Combine(Environment.GetEnvironmentVariable("KSCOPE_CACHE") is { Length: > 0 } c ? c : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "kscope"), "go-corpus", "root");
        string path = Binary switch
        {
            "dockerd" => Path.Combine(corpus, "bookworm-docker.io-amd64", "usr", "sbin", "dockerd"),
            "etcd" => Path.Combine(corpus, "bookworm-etcd-server-amd64", "usr", "bin", "etcd"),
            _ => Libc,
        };
        _path = path;
        var symbolizer = BinarySymbolizer.Load(path);
        var rng = new Random(1);
        ulong[] pcs;
        if (symbolizer.GoTable is { } go)
        {
            GoFunction[] fns = go.Functions().ToArray();
            pcs = Enumerable.Range(0, 10_000).Select(_ => { GoFunction f = fns[rng.Next(fns.Length)]; return f.Entry + (ulong)rng.NextInt64(0, (long)Math.Max(1, f.End - f.Entry)); }).ToArray();
        }
        else
        {
            ElfSymbol[] fns = symbolizer.Elf.DynamicSymbols.Where(s => s.Type == ElfSymbolType.Func && s.Size > 0).ToArray();
            pcs = Enumerable.Range(0, 10_000).Select(_ => { ElfSymbol s = fns[rng.Next(fns.Length)]; return s.Value + (ulong)rng.NextInt64(0, (long)s.Size); }).ToArray();
        }
        _binaries[Binary] = (symbolizer, pcs);
    }

    /// <summary>Read the file, find and index its symbols (pclntab found and relocated for the Go ones).</summary>
    [Benchmark]
    public int OpenAndIndex() => BinarySymbolizer.Load(_path).IsGo ? 1 : 0;

    /// <summary>10,000 random addresses inside functions (no caching across addresses).</summary>
    [Benchmark(OperationsPerInvoke = 10_000)]
    public int Symbolize10k()
    {
        var (symbolizer, pcs) = _binaries[Binary];
        int n = 0;
        foreach (ulong pc in pcs)
        {
            n += symbolizer.Symbolize(pc).Count;
        }
        return n;
    }
}
