namespace Kscope.Formats.Go;

/// <summary>One goroutine of a text dump (<c>/debug/pprof/goroutine?debug=2</c> or a panic's traceback).</summary>
public sealed class Goroutine
{
    public long Id { get; init; }

    /// <summary>The wait reason or status: "running", "chan receive", "IO wait", "select", "sync.Mutex.Lock"…</summary>
    public string State { get; init; } = "";

    /// <summary>How long it has been blocked, as printed (whole minutes), or null when not printed (under a minute).</summary>
    public TimeSpan? Waiting { get; init; }

    public bool LockedToThread { get; init; }

    /// <summary>Innermost frame first.</summary>
    public IReadOnlyList<GoroutineFrame> Frames { get; init; } = [];

    /// <summary>The go statement that started it (null for goroutine 1 and runtime goroutines).</summary>
    public GoroutineFrame? CreatedBy { get; init; }

    /// <summary>The goroutine that ran that go statement (Go 1.21+ prints it), or 0.</summary>
    public long CreatorId { get; init; }

    /// <summary>The dump elided frames ("...additional frames elided...").</summary>
    public bool FramesElided { get; init; }

    /// <summary>The stack printed as "stack unavailable" (running on another thread).</summary>
    public bool StackUnavailable { get; init; }
}
