using System.Runtime.InteropServices;
using Kscope.Native;

namespace Kscope.Kernel.Tests.Btf;

// Mirrors that exist only to be verified by KernelStructVerifierTests: some right, most deliberately wrong.

// struct kvm_userspace_memory_region, include/uapi/linux/kvm.h — correct.
[StructLayout(LayoutKind.Sequential)]
[KernelStruct("kvm_userspace_memory_region")]
internal struct GoodKvmUserspaceMemoryRegion
{
    public uint Slot;
    public uint Flags;
    public ulong GuestPhysAddr;
    public ulong MemorySize;
    public ulong UserspaceAddr;
}

// struct kvm_run, include/uapi/linux/kvm.h: a prefix reaching into the anonymous exit union by dotted path — correct.
[StructLayout(LayoutKind.Explicit, Size = 48)]
[KernelStruct("kvm_run", Prefix = true)]
internal struct GoodKvmRunIoPrefix
{
    [FieldOffset(0)] public byte RequestInterruptWindow;
    [FieldOffset(8)] public uint ExitReason;
    [FieldOffset(16)] public ulong Cr8;
    [FieldOffset(24)] public ulong ApicBase;
    [FieldOffset(32), KernelField("io.direction")] public byte IoDirection;
    [FieldOffset(34), KernelField("io.port")] public ushort IoPort;
    [FieldOffset(40), KernelField("io.data_offset")] public ulong IoDataOffset;
}

// WRONG size: struct kvm_regs with r15 forgotten (136 bytes, the kernel's is 144).
[StructLayout(LayoutKind.Sequential)]
[KernelStruct("kvm_regs")]
internal struct BadKvmRegsSize
{
    public ulong Rax, Rbx, Rcx, Rdx, Rsi, Rdi, Rsp, Rbp;
    public ulong R8, R9, R10, R11, R12, R13, R14;
    public ulong Rip, Rflags;
}

// WRONG offset: flags and slot swapped in kvm_userspace_memory_region.
[StructLayout(LayoutKind.Explicit, Size = 32)]
[KernelStruct("kvm_userspace_memory_region")]
internal struct BadKvmUserspaceMemoryRegionOffset
{
    [FieldOffset(4)] public uint Slot;
    [FieldOffset(0)] public uint Flags;
    [FieldOffset(8)] public ulong GuestPhysAddr;
    [FieldOffset(16)] public ulong MemorySize;
    [FieldOffset(24)] public ulong UserspaceAddr;
}

// WRONG alignment: epoll_event is packed on x86_64 (12 bytes, data at 4); natural C# alignment puts data at 8.
[StructLayout(LayoutKind.Sequential)]
[KernelStruct("epoll_event")]
internal struct BadEpollEventAlignment
{
    public uint Events;
    public ulong Data;
}

// WRONG field size and unknown name: kvm_userspace_memory_region with a 4-byte memory size and a typo.
[StructLayout(LayoutKind.Sequential)]
[KernelStruct("kvm_userspace_memory_region", Prefix = true)]
internal struct BadKvmUserspaceMemoryRegionFields
{
    public uint Slot;
    public uint Flags;
    public ulong GuestPhysAddr;
    public uint MemorySize;
    public uint UserspaceAdr;
}

// WRONG: a bitfield mirrored as a byte field (perf_event_attr.disabled:1).
[StructLayout(LayoutKind.Explicit, Size = 48)]
[KernelStruct("perf_event_attr", Prefix = true)]
internal struct BadPerfEventAttrBitfield
{
    [FieldOffset(0)] public uint Type;
    [FieldOffset(40)] public byte Disabled;
}

// WRONG: no such kernel struct.
[StructLayout(LayoutKind.Sequential)]
[KernelStruct("kscope_no_such_struct")]
internal struct BadUnknownStruct
{
    public int X;
}

// Fixed buffer compared by size: kvm_run.padding1 is __u8[6] — correct; kvm_sregs.interrupt_bitmap is __u64[4] mirrored as 3 — wrong.
[StructLayout(LayoutKind.Sequential)]
[KernelStruct("kvm_run", Prefix = true)]
internal unsafe struct GoodKvmRunFixedBuffer
{
    public byte RequestInterruptWindow;
    [KernelField("immediate_exit__unsafe")] public byte ImmediateExitUnsafe;
    [KernelField("padding1")] public fixed byte Padding1[6];
    public uint ExitReason;
}

[StructLayout(LayoutKind.Explicit, Size = 312)]
[KernelStruct("kvm_sregs")]
internal unsafe struct BadKvmSregsFixedBuffer
{
    [FieldOffset(256)] public fixed ulong InterruptBitmap[3];
}
