using Kscope.Diagnostics.Trace;
using Kscope.Diagnostics.Trace.Records;

namespace Kscope.Diagnostics.Profiling;

/// <summary>
/// `kscope profile --off-cpu`: the `offcpu` gadget of `kscope trace` (sched_switch/sched_wakeup, blocked time
/// aggregated in the kernel by thread and kernel+user stack) run for the sampled process and its children,
/// read once sampling stops and written as a second sample type, off_cpu nanoseconds.
/// </summary>
public sealed class OffCpuCollector : IDisposable
{
    private readonly IGadgetInstance _instance;

    private OffCpuCollector(IGadgetInstance instance) => _instance = instance;

    /// <summary>Loads and attaches the gadget filtered on <paramref name="pid"/> (and what it forks).</summary>
    public static OffCpuCollector Start(int pid)
    {
        Gadget gadget = GadgetCatalog.Find("offcpu") ?? throw new InvalidOperationException("the offcpu gadget is missing from this build");
        var filter = new TraceFilter { Pids = new HashSet<int> { pid }, FollowChildren = true };
        var rodata = new Dictionary<string, object>(filter.RodataValues(), StringComparer.Ordinal)
        {
            ["slow_ns"] = 0UL,
            ["min_block_ns"] = 1000UL,
        };
        IGadgetInstance instance = GadgetRuntime.Require(gadget).Start(gadget, GadgetObjects.Load(gadget.Object!), filter, rodata);
        try
        {
            instance.AddPid(pid);
            return new OffCpuCollector(instance);
        }
        catch
        {
            instance.Dispose();
            throw;
        }
    }

    /// <summary>Blocked time per (pid, kernel stack, user stack) so far.</summary>
    public IEnumerable<(int Pid, long Nanos, ulong[] Kernel, ulong[] User)> Read()
    {
        foreach ((byte[] key, byte[] value) in _instance.MapEntries("totals").ToList())
        {
            OffCpuEntry e = OffCpuEntry.Parse(key, value);
            yield return ((int)e.Pid, (long)e.TotalNs, Stack(e.KernelStackId), Stack(e.UserStackId));
        }
    }

    private ulong[] Stack(int id) => id < 0 ? [] : [.. _instance.Stack("stacks", id)];

    public void Dispose() => _instance.Dispose();
}
