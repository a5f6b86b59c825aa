using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using Kscope.Formats.Btf;

// Opening /sys/kernel/btf/vmlinux and answering one query, in process (BenchmarkDotNet, allocations included):
//   dotnet run -c Release --project bench/Kscope.Bench.Btf -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(VmlinuxQuery).Assembly).Run(args);

[MemoryDiagnoser]
public class VmlinuxQuery
{
    private const string Vmlinux = "/sys/kernel/btf/vmlinux";
    private byte[] _bytes = [];

    [GlobalSetup]
    public void Setup() => _bytes = File.ReadAllBytes(Vmlinux);

    /// <summary>Read the file (sysfs), parse the header and type offsets, build the name index, find kvm_run and lay it out.</summary>
    [Benchmark(Baseline = true)]
    public long ReadParseFindLayout()
    {
        Btf btf = Btf.Parse(File.ReadAllBytes(Vmlinux));
        return Layout(btf);
    }

    /// <summary>The same from bytes already in memory: the parser and the query alone.</summary>
    [Benchmark]
    public long ParseFindLayout() => Layout(Btf.Parse(_bytes));

    /// <summary>Parse only (what cilium/ebpf's ~27 ms / ~10 MiB "whole parse" figure is about, minus its full materialisation).</summary>
    [Benchmark]
    public int Parse() => Btf.Parse(_bytes).OwnTypeCount;

    private static long Layout(Btf btf)
    {
        BtfType kvmRun = btf.FindComposite("kvm_run") ?? throw new InvalidOperationException("no struct kvm_run");
        return BtfLayout.Compute(btf, kvmRun.Id).Size;
    }
}
