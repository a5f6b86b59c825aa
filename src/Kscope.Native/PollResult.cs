namespace Kscope.Native;

/// <summary>What one <see cref="Poller.Wait"/> saw: how many sources are ready, and whether <see cref="Poller.Wake"/> woke it.</summary>
public readonly record struct PollResult(int Count, bool Woken)
{
    /// <summary>Neither a source nor a wake: the timeout passed (or a signal interrupted the wait).</summary>
    public bool TimedOut => Count == 0 && !Woken;
}
