using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using Kscope.Diagnostics.Pprof;
using Kscope.Diagnostics.Symbols;
using Kscope.Formats.Pprof;

namespace Kscope.Bench.Profile;

[MemoryDiagnoser]
public class ProfileBenchmarks
{
    private byte[] _gz = [];
    private byte[] _raw = [];
    private Formats.Pprof.Profile _profile = null!;
    private BinarySymbolizer _go = null!;
    private ulong[] _pcs = [];

    [GlobalSetup]
    public void Setup()
    {
        string root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "kscope.slnx")))
        {
            root = Path.GetDirectoryName(root)!;
        }
        _gz = File.ReadAllBytes(Path.Combine(root, "..", "shared", "testdata", "pprof", "internal", "proftest", "testdata", "large.cpu"));
        _raw = ProfileReader.Gunzip(_gz);
        _profile = ProfileReader.Read(_gz);
        string go = Directory.GetDirectories("/usr/lib", "go-*").Select(d => Path.Combine(d, "bin", "go")).First(File.Exists);
        _go = BinarySymbolizer.Load(go);
        var rng = new Random(1);
        var fns = _go.GoTable!.Functions().ToArray();
        _pcs = Enumerable.Range(0, 10_000).Select(_ => { var f = fns[rng.Next(fns.Length)]; return f.Entry + (ulong)rng.NextInt64(0, (long)Math.Max(1, f.End - f.Entry)); }).ToArray();
    }

    /// <summary>large.cpu, uncompressed protobuf (span reader) -> resolved model.</summary>
    [Benchmark]
    public int ReadUncompressed() => ProfileReader.ReadUncompressed(_raw).Samples.Count;

    /// <summary>large.cpu, uncompressed, Google.Protobuf generated classes (messages only, ids and strings not resolved).</summary>
    [Benchmark]
    public int GoogleProtobufParse() => GeneratedProfileReader.Parse(_raw).Sample.Count;

    /// <summary>Google.Protobuf generated classes, then ids and string indices resolved into the same model the span reader builds.</summary>
    [Benchmark]
    public int GoogleProtobufParseAndResolve() => GeneratedProfileReader.ParseAndResolve(_raw).Samples.Count;

    /// <summary>gunzip + read.</summary>
    [Benchmark]
    public int ReadGzipped() => ProfileReader.Read(_gz).Samples.Count;

    [Benchmark]
    public int Top() => TopReport.Compute(StackSet.From(_profile)).Count;

    /// <summary>Stacks -> flame tree -> SVG text (what kscope pprof flame does after reading).</summary>
    [Benchmark]
    public int FlameSvg() => FlameGraph.Svg(FlameNode.Build(StackSet.From(_profile)), "large.cpu", "nanoseconds").Length;

    [Benchmark]
    public int WriteGzipped() => ProfileWriter.WriteBytes(_profile).Length;

    /// <summary>10,000 random pcs of Debian's go binary through the pclntab (fresh symbolizer caches per pc lookup).</summary>
    [Benchmark(OperationsPerInvoke = 10_000)]
    public int SymbolizeGoPcs()
    {
        int n = 0;
        foreach (ulong pc in _pcs)
        {
            n += _go.Symbolize(pc).Count;
        }
        return n;
    }

    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(ProfileBenchmarks).Assembly).Run(args);
}
