using Kscope.Kernel.Kvm;

namespace Kscope.Bench.Kvm;

/// <summary>
/// The binding's own per-exit cost: one warm process, one vCPU, blocks of <paramref name="exits"/> IO exits taken
/// alternately through <see cref="Vcpu.Run"/> and through a bare KVM_RUN P/Invoke (what C would do), 21 blocks
/// each, medians of thread-CPU exit rates. Alternating cancels the drift of a shared, loaded machine.
/// </summary>
internal static class Overhead
{
    public static int Run(int exits)
    {
        var bench = new VcpuRunBenchmarks();
        bench.Setup();
        try
        {
            var rates = new List<double>[4];
            for (int k = 0; k < rates.Length; k++)
            {
                rates[k] = [];
                Block(bench, exits, k);
            }
            for (int i = 0; i < 21; i++)
            {
                for (int k = 0; k < rates.Length; k++)
                {
                    rates[k].Add(Block(bench, exits, k));
                }
            }
            double b = Median(rates[0]), v = Median(rates[3]);
            Console.WriteLine($"variants setlasterror={Median(rates[1]):F0} fenced={Median(rates[2]):F0}");
            Console.WriteLine($"overhead bare_io_exits_per_cpu_s={b:F0} vcpu_run_io_exits_per_cpu_s={v:F0} ratio={v / b:F3} ns_per_exit={(1e9 / v) - (1e9 / b):F0}");
            return 0;
        }
        finally
        {
            bench.Cleanup();
        }
    }

    private static double Block(VcpuRunBenchmarks bench, int exits, int variant)
    {
        double c0 = ThreadCpu.Seconds();
        for (int i = 0; i < exits; i++)
        {
            _ = variant switch
            {
                0 => bench.BareIoctl(),
                1 => bench.IoctlSetLastError(),
                2 => bench.FencedIoctl(),
                _ => (uint)bench.VcpuRun(),
            };
        }
        return exits / (ThreadCpu.Seconds() - c0);
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }
}
