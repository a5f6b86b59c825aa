using BenchmarkDotNet.Attributes;
using Kscope.Diagnostics.Symbols;

namespace Kscope.Bench.Profile;

/// <summary>
/// The kernel symbol table every kernel frame needs (trace offcpu's report, profile's kernel stacks): reading
/// /proc/kallsyms (the kernel formats it on each read), parsing a copy read once, and 10,000 lookups.
/// Run as root (kallsyms shows zero addresses otherwise): bench/profile/run or
/// `dotnet run -c Release --project bench/Kscope.Bench.Profile -- --filter '*Kallsyms*'`.
/// </summary>
[MemoryDiagnoser]
public class KallsymsBenchmarks
{
    private string _text = "";
    private KernelSymbols _symbols = null!;
    private ulong[] _addresses = [];

    [GlobalSetup]
    public void Setup()
    {
        _text = File.ReadAllText("/proc/kallsyms");
        _symbols = KernelSymbols.Parse(_text);
        var text = _text.Split('\n').Where(l => l.Length > 19 && l[17] is 't' or 'T').Select(l => Convert.ToUInt64(l[..16], 16)).Where(a => a != 0).ToArray();
        var rng = new Random(1);
        _addresses = [.. Enumerable.Range(0, 10_000).Select(_ => text[rng.Next(text.Length)] + 4)];
    }

    [Benchmark]
    public int ReadAndParse() => KernelSymbols.Load().Count;

    [Benchmark]
    public int Parse() => KernelSymbols.Parse(_text).Count;

    [Benchmark(OperationsPerInvoke = 10_000)]
    public int Resolve10k()
    {
        int n = 0;
        foreach (ulong a in _addresses)
        {
            n += _symbols.Resolve(a).Length;
        }
        return n;
    }
}
