using System.Runtime.CompilerServices;

namespace Kscope.Kernel.Bpf;

using Kscope.Native;

/// <summary>
/// What the BPF ring buffer and perf buffer readers share: the wait half of the drain loop on one
/// <see cref="Poller"/> (<see cref="Wait"/>, <see cref="Cancel"/>), the copying
/// <see cref="ReadAllAsync"/>, and disposal that is safe while another thread reads or waits.
/// </summary>
/// <remarks>
/// One thread consumes (<see cref="Read"/>, <see cref="Wait"/>, <see cref="HasData"/>); any thread may
/// <see cref="Cancel"/> or <see cref="Dispose"/>. A consumer holds SafeHandle references on the mappings
/// it reads and the poller's descriptors while it uses them, so Dispose never unmaps or closes under it:
/// the consumer's call finishes (a blocked <see cref="Wait"/> is woken and returns false), the release
/// happens when it lets go, and its next call throws <see cref="ObjectDisposedException"/>.
/// </remarks>
public abstract class BufferReader : IDisposable
{
    private int _disposed;

    private protected BufferReader(Poller poller)
    {
        Poller = poller;
    }

    /// <summary>Records handed to a handler.</summary>
    public ulong Delivered { get; private protected set; }

    /// <summary>True when records are waiting to be read (a cheap check of the shared positions, no syscall).</summary>
    public abstract bool HasData { get; }

    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    private protected Poller Poller { get; }

    /// <summary>Consumes the records available now (up to <paramref name="max"/>), zero-copy; returns how many were delivered.</summary>
    public abstract int Read(RecordHandler handler, int max = int.MaxValue);

    /// <summary>
    /// Returns at once when records are waiting; else waits until the kernel signals new data, the timeout
    /// passes, or <see cref="Cancel"/> is called. True when data may be ready; false when cancelled or timed out.
    /// </summary>
    public bool Wait(int timeoutMilliseconds)
    {
        if (HasData)
        {
            return true;
        }
        Span<PollEvent> ready = stackalloc PollEvent[8];
        PollResult result = Poller.Wait(ready, timeoutMilliseconds);
        return !result.Woken && (result.Count > 0 || HasData);
    }

    /// <summary>Makes a blocked (or the next) <see cref="Wait"/> return false. From any thread.</summary>
    public void Cancel() => Poller.Wake();

    /// <summary>Every record as a copy, until cancelled. The counts (<see cref="Delivered"/> and the reader's losses) stay exact.</summary>
    public async IAsyncEnumerable<BufferRecord> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using CancellationTokenRegistration registration = Poller.WakeOn(cancellationToken);
        var batch = new List<BufferRecord>();
        while (!cancellationToken.IsCancellationRequested)
        {
            Read((cpu, data) => batch.Add(new BufferRecord(cpu, data.ToArray())));
            foreach (BufferRecord r in batch)
            {
                yield return r;
            }
            if (batch.Count == 0 && !HasData)
            {
                await Task.Run(() => Wait(250), CancellationToken.None).ConfigureAwait(false);
            }
            batch.Clear();
        }
    }

    /// <summary>Wakes a waiting consumer, then releases the mappings and descriptors once no call uses them. Safe from any thread, more than once.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        Poller.Dispose();
        ReleaseResources();
    }

    /// <summary>Disposes the reader's mappings and events (their SafeHandles defer the release while a consumer's call holds them).</summary>
    private protected abstract void ReleaseResources();

    /// <summary>Takes a reference on <paramref name="handle"/> for the duration of a consumer's call; throws <see cref="ObjectDisposedException"/> once released.</summary>
    private protected void Acquire(System.Runtime.InteropServices.SafeHandle handle, ref bool added)
    {
        try
        {
            handle.DangerousAddRef(ref added);
        }
        catch (ObjectDisposedException)
        {
            throw new ObjectDisposedException(ToString());
        }
    }
}
