using System.Runtime.InteropServices;
using Kscope.Native;
using Kscope.Native.Perf;

namespace Kscope.Kernel.Perf;

/// <summary>
/// The consumer side of one perf event's mmap'd ring (perf_event_mmap_page + 2^n data pages;
/// include/uapi/linux/perf_event.h). The kernel advances data_head; this reader walks records from
/// data_tail, hands each to a callback with a zero-copy span, and publishes the new tail (release
/// store) so the kernel can reuse the space. PERF_RECORD_LOST records are counted in <see cref="Lost"/>
/// (and also delivered). One reader per ring; <see cref="Dispose"/> may come from any thread: a
/// <see cref="Read"/> or <see cref="HasData"/> in progress holds a reference on the mapping, so the munmap
/// waits for it to finish, and later calls throw <see cref="ObjectDisposedException"/>.
/// </summary>
public sealed unsafe class PerfRing : IDisposable
{
    private readonly MemoryMapping _mapping;
    private readonly PerfEventMmapPage* _page;
    private readonly byte* _data;
    private readonly ulong _dataSize;
    private byte[]? _scratch;

    private PerfRing(MemoryMapping mapping)
    {
        _mapping = mapping;
        _page = (PerfEventMmapPage*)mapping.Pointer;
        // data_offset/data_size exist since 4.1; older kernels put data right after the first page.
        ulong offset = _page->DataOffset != 0 ? _page->DataOffset : (ulong)MemoryMapping.PageSize;
        _dataSize = _page->DataSize != 0 ? _page->DataSize : (ulong)mapping.Length - offset;
        _data = mapping.Pointer + offset;
    }

    /// <summary>Records lost because the ring was full, as reported by PERF_RECORD_LOST.</summary>
    public ulong Lost { get; private set; }

    /// <summary>Records delivered to a handler so far (PERF_RECORD_LOST ones included).</summary>
    public ulong Delivered { get; private set; }

    /// <summary>The mapping, for readers that hold one reference on several rings across a read (PerfBufReader).</summary>
    internal MemoryMapping Mapping => _mapping;

    /// <summary>Size of the data area in bytes.</summary>
    public ulong DataSize => _dataSize;

    /// <summary>mmaps a ring of <paramref name="dataPages"/> (a power of two) data pages plus the header page.</summary>
    public static PerfRing Map(SafeFd perfFd, int dataPages = 8)
    {
        if (dataPages <= 0 || (dataPages & (dataPages - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(dataPages), dataPages, "must be a power of two");
        }
        nuint length = (nuint)((dataPages + 1) * MemoryMapping.PageSize);
        MemoryMapping mapping = MemoryMapping.Map(perfFd, length, MemoryMapping.ProtRead | MemoryMapping.ProtWrite,
            MemoryMapping.MapShared, 0, "mmap perf ring");
        return new PerfRing(mapping);
    }

    /// <summary>True when the kernel has written records not yet read.</summary>
    public bool HasData
    {
        get
        {
            bool added = false;
            try
            {
                Acquire(ref added);
                return Volatile.Read(ref _page->DataHead) != _page->DataTail;
            }
            finally
            {
                if (added)
                {
                    _mapping.DangerousRelease();
                }
            }
        }
    }

    /// <summary>Reads every record available now (at most <paramref name="max"/>); returns how many were handled.</summary>
    public int Read(PerfRecordHandler handler, int max = int.MaxValue)
    {
        bool added = false;
        try
        {
            Acquire(ref added);
            return ReadHeld(handler, max);
        }
        finally
        {
            if (added)
            {
                _mapping.DangerousRelease();
            }
        }
    }

    public void Dispose() => _mapping.Dispose();

    private void Acquire(ref bool added)
    {
        try
        {
            _mapping.DangerousAddRef(ref added);
        }
        catch (ObjectDisposedException)
        {
            throw new ObjectDisposedException(nameof(PerfRing), "the perf ring is disposed");
        }
    }

    /// <summary><see cref="Read"/> for a caller that already holds a reference on <see cref="Mapping"/>.</summary>
    internal int ReadHeld(PerfRecordHandler handler, int max = int.MaxValue)
    {
        ulong head = Volatile.Read(ref _page->DataHead); // acquire: record bytes before head are visible
        ulong tail = _page->DataTail;
        int count = 0;
        while (tail < head && count < max)
        {
            PerfEventHeader header = ReadHeader(tail);
            if (header.Size < sizeof(PerfEventHeader) || tail + header.Size > head)
            {
                // A corrupt size would make us loop or read stale bytes: drop everything available.
                tail = head;
                break;
            }
            ReadOnlySpan<byte> body = Slice(tail + (ulong)sizeof(PerfEventHeader), header.Size - sizeof(PerfEventHeader));
            if (header.Type == (uint)PerfRecordType.Lost && body.Length >= 16)
            {
                Lost += MemoryMarshal.Read<ulong>(body[8..]); // struct { u64 id; u64 lost; }
            }
            handler(header, body);
            tail += header.Size;
            count++;
        }
        Delivered += (ulong)count;
        Volatile.Write(ref _page->DataTail, tail); // release: we are done with the bytes before tail
        return count;
    }

    private PerfEventHeader ReadHeader(ulong position)
    {
        ReadOnlySpan<byte> bytes = Slice(position, sizeof(PerfEventHeader));
        return MemoryMarshal.Read<PerfEventHeader>(bytes);
    }

    private ReadOnlySpan<byte> Slice(ulong position, int length)
    {
        ulong start = position & (_dataSize - 1);
        if (start + (ulong)length <= _dataSize)
        {
            return new ReadOnlySpan<byte>(_data + start, length);
        }
        // The record wraps around the end of the ring: stitch the two parts into scratch.
        if (_scratch is null || _scratch.Length < length)
        {
            _scratch = new byte[Math.Max(length, 256)];
        }
        int first = (int)(_dataSize - start);
        new ReadOnlySpan<byte>(_data + start, first).CopyTo(_scratch);
        new ReadOnlySpan<byte>(_data, length - first).CopyTo(_scratch.AsSpan(first));
        return _scratch.AsSpan(0, length);
    }
}
