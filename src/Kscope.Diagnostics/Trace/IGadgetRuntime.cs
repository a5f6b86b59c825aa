namespace Kscope.Diagnostics.Trace;

/// <summary>
/// The seam between the gadgets and the eBPF stack (Kscope.Kernel.Bpf: object loader with CO-RE,
/// attach by section name, ring buffer reader). An implementation loads a gadget object with the
/// filter's .rodata values, fills the `pids` map, attaches every program, and exposes the ring buffer
/// `events` and the object's maps.
/// </summary>
public interface IGadgetRuntime
{
    IGadgetInstance Start(Gadget gadget, byte[] elfObject, TraceFilter filter, IReadOnlyDictionary<string, object> rodata);
}

/// <summary>A loaded and attached gadget; Dispose detaches and closes everything.</summary>
public interface IGadgetInstance : IDisposable
{
    /// <summary>Records of ring buffer `events`, as they arrive, until cancelled (empty for gadgets without one).</summary>
    IAsyncEnumerable<ReadOnlyMemory<byte>> Events(CancellationToken cancellationToken);

    /// <summary>
    /// Every record committed to ring buffer `events` and not yet read, now, without waiting. Called
    /// after <see cref="Events"/> has ended, so that what the kernel wrote before the end (the last
    /// syscalls of an exiting command) is printed, not dropped.
    /// </summary>
    IReadOnlyList<ReadOnlyMemory<byte>> Drain();

    /// <summary>Records the kernel could not deliver (ring buffer full), counted by the reader.</summary>
    ulong Lost { get; }

    /// <summary>
    /// Adds a process to the in-kernel pid set (map `pids`). <paramref name="pendingExec"/>: the wrapper
    /// kscope started for -- COMMAND, which becomes the target when it execs the command (filter.h:
    /// PID_PENDING_EXEC); what it does before is kscope's doing and is not reported.
    /// </summary>
    void AddPid(int pid, bool pendingExec = false);

    /// <summary>
    /// Detaches every program (the kernel writes no more records) and keeps the maps, so that
    /// <see cref="Drain"/> and the aggregates read a finite, final state however busy the targets are.
    /// </summary>
    void Detach();

    /// <summary>Every (key, value) of a hash or array map of the object.</summary>
    IEnumerable<(byte[] Key, byte[] Value)> MapEntries(string map);

    /// <summary>The instruction pointers of stack <paramref name="id"/> in stack-trace map <paramref name="map"/>; empty when gone.</summary>
    IReadOnlyList<ulong> Stack(string map, int id);
}
