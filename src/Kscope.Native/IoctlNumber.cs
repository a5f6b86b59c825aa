using System.Runtime.CompilerServices;

namespace Kscope.Native;

/// <summary>
/// ioctl request numbers built the way include/uapi/asm-generic/ioctl.h's _IO/_IOR/_IOW/_IOWR macros build
/// them (x86_64 and arm64 both use the generic encoding): bits 0-7 number, 8-15 type, 16-29 argument size,
/// 30-31 direction (1 = write to the kernel, 2 = read from it). Deriving the size from the managed mirror
/// (<c>Iow&lt;KvmRegs&gt;</c>) means a mirror of the wrong size yields a different number, which the kernel
/// rejects with ENOTTY instead of reading the wrong bytes.
/// </summary>
public static class IoctlNumber
{
    public const int NumberBits = 8;
    public const int TypeBits = 8;
    public const int SizeBits = 14;
    public const uint DirectionNone = 0;
    public const uint DirectionWrite = 1;
    public const uint DirectionRead = 2;

    private const int TypeShift = NumberBits;
    private const int SizeShift = TypeShift + TypeBits;
    private const int DirectionShift = SizeShift + SizeBits;

    /// <summary>_IOC(dir, type, nr, size); throws when the size does not fit the 14-bit field.</summary>
    public static nuint Encode(uint direction, byte type, byte number, int size)
    {
        if ((uint)size >= 1u << SizeBits)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, "ioctl argument size must fit in 14 bits");
        }
        return (nuint)((direction << DirectionShift) | ((uint)size << SizeShift) | ((uint)type << TypeShift) | number);
    }

    /// <summary>_IO(type, nr): no argument struct.</summary>
    public static nuint Io(byte type, byte number) => Encode(DirectionNone, type, number, 0);

    /// <summary>_IOR(type, nr, T): the kernel writes a T.</summary>
    public static nuint Ior<T>(byte type, byte number) where T : unmanaged => Encode(DirectionRead, type, number, Unsafe.SizeOf<T>());

    /// <summary>_IOW(type, nr, T): the kernel reads a T.</summary>
    public static nuint Iow<T>(byte type, byte number) where T : unmanaged => Encode(DirectionWrite, type, number, Unsafe.SizeOf<T>());

    /// <summary>_IOWR(type, nr, T): both.</summary>
    public static nuint Iowr<T>(byte type, byte number) where T : unmanaged =>
        Encode(DirectionRead | DirectionWrite, type, number, Unsafe.SizeOf<T>());

    /// <summary>The argument size encoded in a request number (_IOC_SIZE).</summary>
    public static int SizeOf(nuint request) => (int)(((uint)request >> SizeShift) & ((1u << SizeBits) - 1));
}
