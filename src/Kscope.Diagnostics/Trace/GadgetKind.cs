namespace Kscope.Diagnostics.Trace;

/// <summary>How a gadget reports: records as they happen, totals summed in the kernel, or counters polled.</summary>
public enum GadgetKind
{
    /// <summary>Records streamed through the ring buffer `events`, one line each.</summary>
    Stream,

    /// <summary>Totals and histograms summed in kernel maps, printed at the end or every --interval (plus streamed outliers).</summary>
    Aggregate,

    /// <summary>Counters read from cgroupfs at each --interval (no eBPF).</summary>
    Poll,
}
