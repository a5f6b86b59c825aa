using Kscope.Diagnostics.Trace.Gadgets.CpuThrottle;
using Kscope.Diagnostics.Trace.Gadgets.Exec;
using Kscope.Diagnostics.Trace.Gadgets.Futex;
using Kscope.Diagnostics.Trace.Gadgets.OffCpu;
using Kscope.Diagnostics.Trace.Gadgets.Oom;
using Kscope.Diagnostics.Trace.Gadgets.Open;
using Kscope.Diagnostics.Trace.Gadgets.Runqlat;
using Kscope.Diagnostics.Trace.Gadgets.Signal;
using Kscope.Diagnostics.Trace.Gadgets.Syscalls;
using Kscope.Diagnostics.Trace.Gadgets.Tcp;
using Kscope.Kernel.Tracing;

namespace Kscope.Diagnostics.Trace;

/// <summary>The built-in gadgets of <c>kscope trace</c> (one type each, in Trace/Gadgets), and what each needs from the kernel.</summary>
public static class GadgetCatalog
{
    /// <summary>The hooks of filter.h that every eBPF gadget carries: fork and exec following, v1 cgroup joins.</summary>
    public static IReadOnlyList<string> FilterNeeds { get; } =
        ["raw_tracepoint:sched_process_fork", "raw_tracepoint:sched_process_exec", "raw_tracepoint:cgroup_attach_task"];

    public static IReadOnlyList<Gadget> All { get; } =
    [
        new ExecGadget(), new OpenGadget(), new SyscallsGadget(), new OffCpuGadget(), new FutexGadget(), new RunqlatGadget(),
        new TcpGadget(), new OomGadget(), new SignalGadget(), new CpuThrottleGadget(),
    ];

    public static Gadget? Find(string name) => All.FirstOrDefault(g => string.Equals(g.Name, name, StringComparison.Ordinal));

    /// <summary>The gadget of type <typeparamref name="T"/> (for code that runs one gadget itself, as profile --off-cpu).</summary>
    public static T Get<T>() where T : Gadget => All.OfType<T>().Single();

    /// <summary>Whether this kernel offers each need of <paramref name="gadget"/>: (need, present, how it was checked).</summary>
    public static IReadOnlyList<(string Need, bool? Present, string Detail)> Check(Gadget gadget) =>
        gadget.Needs.Select(n => Probe(n)).ToArray();

    private static (string, bool?, string) Probe(string need)
    {
        int colon = need.IndexOf(':', StringComparison.Ordinal);
        string kind = need[..colon], what = need[(colon + 1)..];
        switch (kind)
        {
            case "tracepoint":
                return Tracefs.EventExists(what) is bool present
                    ? (need, present, present ? "tracefs event present" : "no such tracefs event")
                    : (need, null, "tracefs not mounted and could not be mounted");
            case "raw_tracepoint":
                // raw tracepoints are the kernel's tracepoints by bare name; tracefs lists them under a category
                return Tracefs.AnyEventNamed(what) is bool raw
                    ? (need, raw, raw ? "tracepoint present" : "no such tracepoint")
                    : (need, null, "tracefs not mounted and could not be mounted");
            case "map":
                return (need, null, "map type probed at load");
            case "cgroup":
                bool any = Directory.Exists("/sys/fs/cgroup");
                return (need, any, any ? "cgroupfs mounted" : "/sys/fs/cgroup missing");
            default:
                return (need, null, "unknown need");
        }
    }
}
