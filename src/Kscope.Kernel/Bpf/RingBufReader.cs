using System.Runtime.CompilerServices;

namespace Kscope.Kernel.Bpf;

using Kscope.Native;

/// <summary>
/// Consumer of a BPF_MAP_TYPE_RINGBUF map (kernel/bpf/ringbuf.c). The consumer page (read-write) holds
/// consumer_pos; the producer page and the data area, mapped twice back to back by the kernel so a
/// record never needs stitching, are read-only. Each record starts with an 8-byte header
/// (struct bpf_ringbuf_hdr: u32 len with BUSY (1&lt;&lt;31) and DISCARD (1&lt;&lt;30) bits, u32 pg_off) and is
/// padded to 8 bytes. Records the program discarded are counted in <see cref="Discarded"/>; records
/// the program could not reserve never reach the ring, so the program must count those itself.
/// </summary>
public sealed unsafe class RingBufReader : IDisposable
{
    private const uint BusyBit = 1u << 31;
    private const uint DiscardBit = 1u << 30;
    private const int HeaderSize = 8;
    private const ulong CancelCookie = ulong.MaxValue;

    private readonly Map _map;
    private readonly MemoryMapping _consumer;
    private readonly MemoryMapping _producer;
    private readonly byte* _data;
    private readonly ulong _mask;
    private readonly Epoll _epoll;
    private readonly SafeFd _cancel;

    public RingBufReader(Map map)
    {
        if (map.Type != MapType.RingBuf)
        {
            throw new ArgumentException($"{map} is not a ring buffer", nameof(map));
        }
        _map = map;
        int page = MemoryMapping.PageSize;
        var consumer = MemoryMapping.Map(map.Fd, (nuint)page, MemoryMapping.ProtRead | MemoryMapping.ProtWrite, MemoryMapping.MapShared, 0, $"mmap ring buffer '{map.Name}' consumer page");
        MemoryMapping? producer = null;
        Epoll? epoll = null;
        try
        {
            producer = MemoryMapping.Map(map.Fd, (nuint)page + 2 * (nuint)map.MaxEntries, MemoryMapping.ProtRead, MemoryMapping.MapShared, page, $"mmap ring buffer '{map.Name}' data");
            epoll = new Epoll();
            epoll.Add(map.Fd, Epoll.In, 0);
            _cancel = EventFd.Create();
            epoll.Add(_cancel, Epoll.In, CancelCookie);
        }
        catch
        {
            consumer.Dispose();
            producer?.Dispose();
            epoll?.Dispose();
            throw;
        }
        _consumer = consumer;
        _producer = producer;
        _epoll = epoll;
        _data = producer.Pointer + page;
        _mask = map.MaxEntries - 1;
    }

    /// <summary>Records handed to a handler.</summary>
    public ulong Delivered { get; private set; }

    /// <summary>Records the program reserved and then discarded (bpf_ringbuf_discard).</summary>
    public ulong Discarded { get; private set; }

    /// <summary>Bytes written by producers and not yet consumed.</summary>
    public ulong Pending => Volatile.Read(ref *(ulong*)_producer.Pointer) - Volatile.Read(ref *(ulong*)_consumer.Pointer);

    /// <summary>Consumes every committed record now available (up to <paramref name="max"/>), zero-copy; returns how many were delivered.</summary>
    public int Read(RecordHandler handler, int max = int.MaxValue)
    {
        ulong* consumerPos = (ulong*)_consumer.Pointer;
        ulong* producerPos = (ulong*)_producer.Pointer;
        ulong cons = Volatile.Read(ref *consumerPos);
        int delivered = 0;
        while (delivered < max)
        {
            ulong prod = Volatile.Read(ref *producerPos); // acquire
            if (cons >= prod)
            {
                break;
            }
            byte* header = _data + (cons & _mask);
            uint len = Volatile.Read(ref *(uint*)header); // acquire: the record body is visible once BUSY clears
            if ((len & BusyBit) != 0)
            {
                break; // reserved, not yet committed
            }
            uint size = len & ~(BusyBit | DiscardBit);
            if ((len & DiscardBit) != 0)
            {
                Discarded++;
            }
            else
            {
                handler(-1, new ReadOnlySpan<byte>(header + HeaderSize, (int)size));
                delivered++;
            }
            cons += (HeaderSize + size + 7) & ~7u;
            Volatile.Write(ref *consumerPos, cons); // release: the space may be reused
        }
        Delivered += (ulong)delivered;
        return delivered;
    }

    /// <summary>Waits until the kernel signals new data, the timeout passes, or <see cref="Cancel"/> is called; true when data may be ready.</summary>
    public bool Wait(int timeoutMilliseconds)
    {
        if (Pending > 0)
        {
            return true;
        }
        Span<EpollEvent> events = stackalloc EpollEvent[2];
        int n = _epoll.Wait(events, timeoutMilliseconds);
        for (int i = 0; i < n; i++)
        {
            if (events[i].Data == CancelCookie)
            {
                return false;
            }
        }
        return n > 0 || Pending > 0;
    }

    /// <summary>Wakes a blocked <see cref="Wait"/>.</summary>
    public void Cancel() => EventFd.Signal(_cancel);

    /// <summary>Every record as a copy, until cancelled. Counts (<see cref="Delivered"/>, <see cref="Discarded"/>) stay exact.</summary>
    public async IAsyncEnumerable<BufferRecord> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using CancellationTokenRegistration registration = cancellationToken.Register(Cancel);
        var batch = new List<BufferRecord>();
        while (!cancellationToken.IsCancellationRequested)
        {
            Read((cpu, data) => batch.Add(new BufferRecord(cpu, data.ToArray())));
            foreach (BufferRecord r in batch)
            {
                yield return r;
            }
            batch.Clear();
            if (Pending == 0)
            {
                await Task.Run(() => Wait(250), CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    public void Dispose()
    {
        _epoll.Dispose();
        _cancel.Dispose();
        _producer.Dispose();
        _consumer.Dispose();
    }

    public override string ToString() => $"ring buffer reader of {_map}";
}
