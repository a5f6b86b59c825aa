namespace Kscope.Diagnostics.Trace;

/// <summary>What the user asked for: gadget, targets, how long, how to print.</summary>
public sealed record TraceOptions(Gadget Gadget, TraceFilter Filter)
{
    public TimeSpan? Duration { get; init; }

    /// <summary>Print aggregates (and cpu-throttle samples) every interval; null: at the end (cpu-throttle: 1s).</summary>
    public TimeSpan? Interval { get; init; }

    public bool Json { get; init; }

    /// <summary>Columns to print (default: the gadget's).</summary>
    public IReadOnlyList<string>? Fields { get; init; }

    /// <summary>Threshold of streamed outliers (syscalls, runqlat) and of offcpu totals printed.</summary>
    public TimeSpan Slow { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// Only what failed, filtered in the kernel. open: calls that failed (opensnoop -x); tcp: failed connects,
    /// connections reset or aborted, retransmits.
    /// </summary>
    public bool FailedOnly { get; init; }

    /// <summary>
    /// Stack gadgets (offcpu, futex): rows printed, the largest totals first (0: all). Only printed rows are
    /// symbolized, so the report at the end costs what it shows, not what the kernel summed.
    /// </summary>
    public int Top { get; init; } = DefaultTop;

    public const int DefaultTop = 50;

    /// <summary>Processes whose mappings a stack gadget keeps for the report (<see cref="ProcessMapsStore"/>).</summary>
    public int MapsCapacity { get; init; } = ProcessMapsStore.DefaultCapacity;

    /// <summary>-- COMMAND ARGS…: started stopped, traced with its children, kscope ends with it.</summary>
    public IReadOnlyList<string> Command { get; init; } = [];
}

/// <summary>The end of a trace: what was seen, what was lost, how it ended.</summary>
public sealed record TraceSummary(string Gadget, ulong Events, ulong Lost, TimeSpan Elapsed, string EndReason, int? CommandExitCode)
{
    /// <summary>Processes whose mappings were not kept (more than <see cref="TraceOptions.MapsCapacity"/>): their user frames are hex.</summary>
    public ulong MapsDropped { get; init; }

    /// <summary>Rows of the final report not printed (past --top).</summary>
    public ulong RowsNotShown { get; init; }
}
