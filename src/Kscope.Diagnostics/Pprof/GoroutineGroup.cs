using Kscope.Formats.Go;

namespace Kscope.Diagnostics.Pprof;

/// <summary>Goroutines in the same state with the same stack.</summary>
public sealed record GoroutineGroup(string State, IReadOnlyList<GoroutineFrame> Frames, GoroutineFrame? CreatedBy, int Count, TimeSpan? LongestWait, IReadOnlyList<long> Ids)
{
    /// <summary>A hint when the group looks like a leak or a deadlock, else null.</summary>
    public string? Finding { get; init; }
}
