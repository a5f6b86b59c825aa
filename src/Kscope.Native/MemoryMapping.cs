using System.Runtime.InteropServices;

namespace Kscope.Native;

/// <summary>
/// An mmap(2) region, unmapped exactly once in <see cref="ReleaseHandle"/>. Used for perf rings,
/// BPF ring buffers and mmap-able array maps. <see cref="Pointer"/> is valid until disposal; callers
/// that hand it to other threads keep a reference (DangerousAddRef) as SafeBuffer users do.
/// </summary>
public sealed unsafe class MemoryMapping : SafeBuffer
{
    public const int ProtRead = 0x1;
    public const int ProtWrite = 0x2;
    public const int MapShared = 0x01;
    public const int MapPrivate = 0x02;
    public const int MapAnonymous = 0x20;

    private static readonly nint s_mapFailed = -1;

    private MemoryMapping() : base(ownsHandle: true)
    {
    }

    /// <summary>The first byte of the mapping.</summary>
    public byte* Pointer => (byte*)handle;

    /// <summary>Mapped length in bytes.</summary>
    public nuint Length => (nuint)ByteLength;

    /// <summary>The whole mapping as a span (lengths up to 2 GiB).</summary>
    public Span<byte> AsSpan() => new(Pointer, checked((int)ByteLength));

    /// <summary>mmap(NULL, length, protection, flags, fd, offset).</summary>
    public static MemoryMapping Map(SafeFd? fd, nuint length, int protection, int flags, long offset = 0, string operation = "mmap")
    {
        bool added = false;
        try
        {
            fd?.DangerousAddRef(ref added);
            nint address = Interop.Libc.Mmap(0, length, protection, flags, fd?.Value ?? -1, offset);
            if (address == s_mapFailed)
            {
                throw KernelException.FromErrno(operation, KernelException.LastErrno());
            }
            var mapping = new MemoryMapping();
            mapping.SetHandle(address);
            mapping.Initialize(length);
            return mapping;
        }
        finally
        {
            if (added)
            {
                fd!.DangerousRelease();
            }
        }
    }

    /// <summary>Private anonymous read-write memory (tests, scratch buffers).</summary>
    public static MemoryMapping Anonymous(nuint length) =>
        Map(null, length, ProtRead | ProtWrite, MapPrivate | MapAnonymous, 0, "mmap anonymous");

    /// <summary>The system page size.</summary>
    public static int PageSize { get; } = Environment.SystemPageSize;

    protected override bool ReleaseHandle() => Interop.Libc.Munmap(handle, (nuint)ByteLength) == 0;
}
