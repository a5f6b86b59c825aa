namespace Kscope.Kernel.Kvm;

/// <summary>
/// Tiny guest programs for self-tests and benchmarks, hand-checked against GNU as (objdump -d) and position
/// independent (load them anywhere). The console port is 0x3f8; MMIO ones use <see cref="MmioAddress"/>.
/// </summary>
public static class GuestPrograms
{
    /// <summary>Guest-physical address of the MMIO "device" (inside the long-mode identity map, outside guest RAM).</summary>
    public const ulong MmioAddress = 0x1000_0000;

    /// <summary>16-bit: prints "R", halts.</summary>
    public static ReadOnlySpan<byte> RealModeOutHlt =>
    [
        0xba, 0xf8, 0x03, // mov $0x3f8, %dx
        0xb0, 0x52,       // mov $'R', %al
        0xee,             // out %al, (%dx)
        0xf4,             // hlt
    ];

    /// <summary>64-bit: prints "64\n" using 64-bit shifts of a 64-bit immediate (garbage unless really in long mode), halts.</summary>
    public static ReadOnlySpan<byte> LongModeOutHlt =>
    [
        0x66, 0xba, 0xf8, 0x03,                                     // mov $0x3f8, %dx
        0x48, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x36, 0x34, 0x0a, // movabs $0x0a34360000000000, %rax
        0x48, 0xc1, 0xe8, 0x28,                                     // shr $40, %rax
        0xee,                                                       // out %al, (%dx)      '6'
        0x48, 0xc1, 0xe8, 0x08,                                     // shr $8, %rax
        0xee,                                                       // out %al, (%dx)      '4'
        0x48, 0xc1, 0xe8, 0x08,                                     // shr $8, %rax
        0xee,                                                       // out %al, (%dx)      '\n'
        0xf4,                                                       // hlt
    ];

    /// <summary>64-bit: writes byte 0x5a to MMIO+0, reads 4 bytes from MMIO+8, prints the low byte read, halts.</summary>
    public static ReadOnlySpan<byte> LongModeMmio =>
    [
        0xc6, 0x04, 0x25, 0x00, 0x00, 0x00, 0x10, 0x5a, // movb $0x5a, 0x10000000
        0x8b, 0x04, 0x25, 0x08, 0x00, 0x00, 0x10,       // mov 0x10000008, %eax
        0x66, 0xba, 0xf8, 0x03,                         // mov $0x3f8, %dx
        0xee,                                           // out %al, (%dx)
        0xf4,                                           // hlt
    ];

    /// <summary>64-bit: ud2 with an empty IDT: #UD, #GP, #DF, triple fault = KVM_EXIT_SHUTDOWN.</summary>
    public static ReadOnlySpan<byte> TripleFault => [0x0f, 0x0b]; // ud2

    /// <summary>64-bit: spins until the byte at <paramref name="flagAddress"/> (below 2 GiB) becomes non-zero, then prints "D" and halts.</summary>
    public static byte[] WaitForFlag(uint flagAddress)
    {
        byte[] code =
        [
            0x80, 0x3c, 0x25, 0, 0, 0, 0, 0x00, // 1: cmpb $0, flagAddress
            0x74, 0xf6,                         // je 1b
            0x66, 0xba, 0xf8, 0x03,             // mov $0x3f8, %dx
            0xb0, 0x44,                         // mov $'D', %al
            0xee,                               // out %al, (%dx)
            0xf4,                               // hlt
        ];
        BitConverter.TryWriteBytes(code.AsSpan(3, 4), flagAddress);
        return code;
    }

    /// <summary>Any mode: jmp . forever (only a kick stops it).</summary>
    public static ReadOnlySpan<byte> Forever => [0xeb, 0xfe];

    /// <summary>Any mode: out %al, (%dx); jmp back — one IO exit per iteration, forever (set DX first, or it is port 0).</summary>
    public static ReadOnlySpan<byte> OutLoop => [0xee, 0xeb, 0xfd];
}
