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
/// <remarks>
/// Every access to the shared pages (<see cref="Read"/>, <see cref="Pending"/>, <see cref="Wait"/>) holds
/// a reference on both mappings: a <see cref="BufferReader.Dispose"/> from another thread (a gadget
/// stopping while its producer thread reads) unmaps only after that access ends, never under it.
/// </remarks>
public sealed unsafe class RingBufReader : BufferReader
{
    private const uint BusyBit = 1u << 31;
    private const uint DiscardBit = 1u << 30;
    private const int HeaderSize = 8;

    private readonly Map _map;
    private readonly MemoryMapping _consumer;
    private readonly MemoryMapping _producer;
    private readonly nint _dataOffset;
    private readonly ulong _mask;

    public RingBufReader(Map map)
        : this(map, Open(map))
    {
    }

    private RingBufReader(Map map, (Poller Poller, MemoryMapping Consumer, MemoryMapping Producer) parts)
        : base(parts.Poller)
    {
        _map = map;
        _consumer = parts.Consumer;
        _producer = parts.Producer;
        _dataOffset = MemoryMapping.PageSize;
        _mask = map.MaxEntries - 1;
    }

    /// <summary>Records the program reserved and then discarded (bpf_ringbuf_discard).</summary>
    public ulong Discarded { get; private set; }

    /// <summary>Bytes written by producers and not yet consumed.</summary>
    public ulong Pending
    {
        get
        {
            bool consumer = false, producer = false;
            try
            {
                Acquire(_consumer, ref consumer);
                Acquire(_producer, ref producer);
                return Volatile.Read(ref *(ulong*)_producer.Pointer) - Volatile.Read(ref *(ulong*)_consumer.Pointer);
            }
            finally
            {
                Release(consumer, producer);
            }
        }
    }

    public override bool HasData => Pending > 0;

    /// <summary>Consumes every committed record now available (up to <paramref name="max"/>), zero-copy; returns how many were delivered.</summary>
    public override int Read(RecordHandler handler, int max = int.MaxValue)
    {
        bool consumer = false, producer = false;
        try
        {
            Acquire(_consumer, ref consumer);
            Acquire(_producer, ref producer);
            return ReadMapped(handler, max);
        }
        finally
        {
            Release(consumer, producer);
        }
    }

    public override string ToString() => $"ring buffer reader of {_map}";

    private protected override void ReleaseResources()
    {
        _producer.Dispose();
        _consumer.Dispose();
    }

    private int ReadMapped(RecordHandler handler, int max)
    {
        ulong* consumerPos = (ulong*)_consumer.Pointer;
        ulong* producerPos = (ulong*)_producer.Pointer;
        byte* data = _producer.Pointer + _dataOffset;
        ulong cons = Volatile.Read(ref *consumerPos);
        int delivered = 0;
        while (delivered < max)
        {
            ulong prod = Volatile.Read(ref *producerPos); // acquire
            if (cons >= prod)
            {
                break;
            }
            byte* header = data + (cons & _mask);
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

    private void Release(bool consumer, bool producer)
    {
        if (producer)
        {
            _producer.DangerousRelease();
        }
        if (consumer)
        {
            _consumer.DangerousRelease();
        }
    }

    /// <summary>Maps both areas and registers the map with a new poller; on failure releases whatever it had made.</summary>
    private static (Poller, MemoryMapping, MemoryMapping) Open(Map map)
    {
        if (map.Type != MapType.RingBuf)
        {
            throw new ArgumentException($"{map} is not a ring buffer", nameof(map));
        }
        int page = MemoryMapping.PageSize;
        MemoryMapping? consumer = null, producer = null;
        Poller? poller = null;
        try
        {
            consumer = MemoryMapping.Map(map.Fd, (nuint)page, MemoryMapping.ProtRead | MemoryMapping.ProtWrite, MemoryMapping.MapShared, 0, $"mmap ring buffer '{map.Name}' consumer page");
            producer = MemoryMapping.Map(map.Fd, (nuint)page + 2 * (nuint)map.MaxEntries, MemoryMapping.ProtRead, MemoryMapping.MapShared, page, $"mmap ring buffer '{map.Name}' data");
            poller = new Poller();
            poller.Add(map.Fd, 0);
            return (poller, consumer, producer);
        }
        catch
        {
            poller?.Dispose();
            producer?.Dispose();
            consumer?.Dispose();
            throw;
        }
    }
}
