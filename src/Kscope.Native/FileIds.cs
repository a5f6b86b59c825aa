using System.Buffers.Binary;

namespace Kscope.Native;

/// <summary>Inode numbers through statx(2), e.g. a cgroup v2 directory's inode, which is its cgroup id.</summary>
public static unsafe class FileIds
{
    private const int AtFdCwd = -100;
    private const uint StatxIno = 0x100;

    // struct statx (include/uapi/linux/stat.h) is 256 bytes; only stx_ino (__u64 at offset 32) is read,
    // so the kernel writes into a plain buffer rather than a full mirror.
    private const int StatxSize = 256;
    private const int StxInoOffset = 32;

    public static ulong Inode(string path)
    {
        byte* buffer = stackalloc byte[StatxSize];
        if (Interop.Libc.Statx(AtFdCwd, path, 0, StatxIno, buffer) != 0)
        {
            Errno errno = KernelException.LastErrno();
            throw KernelException.FromErrno($"statx {path}", errno);
        }
        return BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(buffer + StxInoOffset, 8));
    }
}
