namespace Kscope.Kernel.Bpf;

using Kscope.Native;

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
        foreach (Link part in Parts)
        {
            part.Dispose();
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

    public override string ToString() => Description;
}
