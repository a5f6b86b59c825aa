using System.Runtime.InteropServices;

namespace Kscope.Native;

// struct statx, include/uapi/linux/stat.h (256 bytes; the fields after stx_mnt_id are 6.1+ and are zero before).
[StructLayout(LayoutKind.Sequential)]
[KernelStruct("statx")]
public unsafe struct Statx
{
    [KernelField("stx_mask")] public uint Mask;
    [KernelField("stx_blksize")] public uint BlockSize;
    [KernelField("stx_attributes")] public ulong Attributes;
    [KernelField("stx_nlink")] public uint NLink;
    [KernelField("stx_uid")] public uint Uid;
    [KernelField("stx_gid")] public uint Gid;
    [KernelField("stx_mode")] public ushort Mode;
    [KernelField("__spare0")] public ushort Spare0;
    [KernelField("stx_ino")] public ulong Ino;
    [KernelField("stx_size")] public ulong Size;
    [KernelField("stx_blocks")] public ulong Blocks;
    [KernelField("stx_attributes_mask")] public ulong AttributesMask;
    [KernelField("stx_atime")] public StatxTimestamp ATime;
    [KernelField("stx_btime")] public StatxTimestamp BTime;
    [KernelField("stx_ctime")] public StatxTimestamp CTime;
    [KernelField("stx_mtime")] public StatxTimestamp MTime;
    [KernelField("stx_rdev_major")] public uint RdevMajor;
    [KernelField("stx_rdev_minor")] public uint RdevMinor;
    [KernelField("stx_dev_major")] public uint DevMajor;
    [KernelField("stx_dev_minor")] public uint DevMinor;
    [KernelField("stx_mnt_id")] public ulong MntId;
    [KernelField("stx_dio_mem_align")] public uint DioMemAlign;
    [KernelField("stx_dio_offset_align")] public uint DioOffsetAlign;
    [KernelField("stx_subvol")] public ulong Subvol;
    [KernelField("stx_atomic_write_unit_min")] public uint AtomicWriteUnitMin;
    [KernelField("stx_atomic_write_unit_max")] public uint AtomicWriteUnitMax;
    [KernelField("stx_atomic_write_segments_max")] public uint AtomicWriteSegmentsMax;
    [KernelField("stx_dio_read_offset_align")] public uint DioReadOffsetAlign;
    [KernelField("stx_atomic_write_unit_max_opt")] public uint AtomicWriteUnitMaxOpt;
    // Reserved space (__spare2, __spare3): kernels carve new members out of it (6.1's __spare3 starts at 160, 6.18's at
    // 192), so it is not compared member by member; the struct's size still is.
    [KernelPadding] public uint Spare2;
    [KernelPadding] public fixed ulong Spare3[8];
}
