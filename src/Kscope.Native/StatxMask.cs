namespace Kscope.Native;

/// <summary>statx(2) mask bits (STATX_*), include/uapi/linux/stat.h.</summary>
[Flags]
public enum StatxMask : uint
{
    Type = 0x1,
    Mode = 0x2,
    NLink = 0x4,
    Uid = 0x8,
    Gid = 0x10,
    ATime = 0x20,
    MTime = 0x40,
    CTime = 0x80,
    Ino = 0x100,
    Size = 0x200,
    Blocks = 0x400,
    BasicStats = 0x7ff,
    BTime = 0x800,
    MntId = 0x1000,
}
