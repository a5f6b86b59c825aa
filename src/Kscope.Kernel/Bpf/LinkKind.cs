namespace Kscope.Kernel.Bpf;

/// <summary>The attach points kscope knows.</summary>
public enum LinkKind
{
    Tracepoint,
    RawTracepoint,
    Kprobe,
    Kretprobe,
    Uprobe,
    Uretprobe,
    PerfEvent,
    Fentry,
    Fexit,
    Lsm,
    TracepointBtf,
}
