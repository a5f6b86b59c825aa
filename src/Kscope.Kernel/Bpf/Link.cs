namespace Kscope.Kernel.Bpf;

using Kscope.Native;
using Kscope.Native.Perf;

/// <summary>
/// A program attached somewhere; Dispose detaches it. Holds a BPF link fd when the kernel made one
/// (raw tracepoint, BPF_LINK_CREATE), the perf event fd for perf-based attach points (tracepoint,
/// kprobe, uprobe, perf_event), or both.
/// </summary>
public sealed class Link : IDisposable
{
    internal Link(string description, LinkKind kind, SafeFd? linkFd, SafeFd? perfEventFd)
    {
        Description = description;
        Kind = kind;
        LinkFd = linkFd;
        PerfEventFd = perfEventFd;
    }

    /// <summary>One attachment made of several (e.g. a perf_event program sampling on every CPU); Dispose detaches them all.</summary>
    internal Link(string description, LinkKind kind, IReadOnlyList<Link> parts)
        : this(description, kind, null, null)
    {
        Parts = parts;
    }

    /// <summary>What is attached where, e.g. "tracepoint syscalls:sys_enter_openat".</summary>
    public string Description { get; }

    public LinkKind Kind { get; }

    /// <summary>The bpf_link fd, or null when attached the pre-link way (PERF_EVENT_IOC_SET_BPF).</summary>
    public SafeFd? LinkFd { get; }

    /// <summary>The perf event the program runs on, for perf-based attach points.</summary>
    public SafeFd? PerfEventFd { get; }

    /// <summary>The per-CPU (or per-target) attachments of a composite link; empty for a single one.</summary>
    public IReadOnlyList<Link> Parts { get; } = [];

    /// <summary>Pins a BPF link on bpffs so the attachment outlives this process.</summary>
    public void Pin(string path)
    {
        if (LinkFd is null)
        {
            throw new InvalidOperationException($"{Description}: attached without a BPF link, cannot pin");
        }
        Pinning.Pin(LinkFd, path, $"pin link {Description}");
    }

    public void Dispose()
    {
        if (Parts.Count > 0)
        {
            DisposeAll(Parts);
        }
        LinkFd?.Dispose();
        if (PerfEventFd is { IsClosed: false } perf)
        {
            try
            {
                PerfEvents.Disable(perf);
            }
            catch (KernelException)
            {
            }
            perf.Dispose();
        }
    }

    /// <summary>
    /// Detaches many links at once. Releasing a perf-event-based attachment (tracepoint, kprobe, uprobe) waits in the
    /// kernel for RCU grace periods (perf_trace_event_unreg → tracepoint_synchronize_unregister; 25-30 ms per close
    /// measured here, two closes per link): released one after the other those waits add up (8 closes, about 0.2 s,
    /// for the open gadget); released from one thread each they overlap, and the whole takes about one link's time.
    /// Links without a perf event (raw tracepoints, BPF links of tp_btf/fentry) release at once and are closed here.
    /// </summary>
    public static void DisposeAll(IReadOnlyList<Link> links)
    {
        var slow = new List<Link>();
        foreach (Link link in links)
        {
            if (link.PerfEventFd is null && link.Parts.Count == 0)
            {
                link.Dispose();
            }
            else
            {
                slow.Add(link);
            }
        }
        if (slow.Count <= 1)
        {
            slow.ForEach(l => l.Dispose());
            return;
        }
        var threads = new Thread[slow.Count - 1];
        for (int i = 0; i < threads.Length; i++)
        {
            Link link = slow[i + 1];
            threads[i] = new Thread(link.Dispose, maxStackSize: 256 * 1024) { IsBackground = true, Name = "kscope detach" };
            threads[i].Start();
        }
        slow[0].Dispose();
        foreach (Thread thread in threads)
        {
            thread.Join();
        }
    }

    public override string ToString() => Description;
}
