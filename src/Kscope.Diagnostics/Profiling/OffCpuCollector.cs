using Kscope.Diagnostics.Trace;
using Kscope.Diagnostics.Trace.Gadgets.OffCpu;

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

    /// <summary>
    /// Loads and attaches the gadget filtered on <paramref name="pid"/> (and what it forks). With
    /// <paramref name="pendingExec"/> (the stopped shell kscope starts for <c>-- COMMAND</c>) the process
    /// counts only from its exec of the command on: its stop and wait for kscope's SIGCONT are kscope's
    /// doing, not the command's off-CPU time (filter.h, PID_PENDING_EXEC; as <c>kscope trace</c>).
    /// </summary>
    public static OffCpuCollector Start(int pid, bool pendingExec = false)
    {
        OffCpuGadget gadget = GadgetCatalog.Get<OffCpuGadget>();
        var filter = new TraceFilter { Pids = new HashSet<int> { pid }, FollowChildren = true };
        var rodata = new Dictionary<string, object>(filter.RodataValues(), StringComparer.Ordinal)
        {
            ["slow_ns"] = 0UL,
            ["min_block_ns"] = 1000UL,
        };
        IGadgetInstance instance = new BpfGadgetRuntime().Start(gadget, GadgetObjects.Load(gadget.Object!), filter, rodata);
        try
        {
            instance.AddPid(pid, pendingExec);
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

    /// <summary>The gadget's totals as they are (per thread, stacks, waker).</summary>
    public IEnumerable<OffCpuEntry> Entries() => _instance.MapEntries("totals").Select(kv => OffCpuEntry.Parse(kv.Item1, kv.Item2)).ToList();

    private ulong[] Stack(int id) => id < 0 ? [] : [.. _instance.Stack("stacks", id)];

    public void Dispose() => _instance.Dispose();
}
