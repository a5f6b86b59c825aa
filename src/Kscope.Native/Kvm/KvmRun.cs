using System.Runtime.InteropServices;

namespace Kscope.Native.Kvm;

// struct kvm_run, include/uapi/linux/kvm.h: the page shared with KVM at offset 0 of a vCPU fd's mmap
// (KVM_GET_VCPU_MMAP_SIZE bytes; the kernel's struct is 2352 bytes, the rest of the mapping holds the PIO data
// page and the coalesced-MMIO ring). Only the exit-union members kscope decodes are mirrored; each is a flat
// field named after its path ("io.port") because the kernel's members are anonymous struct types with no BTF
// name of their own. Offsets are from pahole on Linux 6.18 and checked against BTF by the verifier test.
[StructLayout(LayoutKind.Explicit, Size = 2352)]
[KernelStruct("kvm_run")]
public unsafe struct KvmRun
{
    /// <summary>in: ask for an exit as soon as the guest can take an interrupt.</summary>
    [FieldOffset(0)] public byte RequestInterruptWindow;

    /// <summary>
    /// in: when non-zero, KVM_RUN returns EINTR at once without entering the guest. The uapi header spells it
    /// <c>immediate_exit</c>; inside the kernel (and so in BTF) it is <c>immediate_exit__unsafe</c>.
    /// </summary>
    [FieldOffset(1), KernelField("immediate_exit__unsafe")] public byte ImmediateExit;

    [FieldOffset(2)] public fixed byte Padding1[6];

    /// <summary>out: a <see cref="KvmExitReason"/>.</summary>
    [FieldOffset(8)] public uint ExitReason;
    [FieldOffset(12)] public byte ReadyForInterruptInjection;
    [FieldOffset(13)] public byte IfFlag;
    [FieldOffset(14)] public ushort Flags;
    [FieldOffset(16)] public ulong Cr8;
    [FieldOffset(24)] public ulong ApicBase;

    // --- the exit union at offset 32 (256 bytes) ---

    // KVM_EXIT_UNKNOWN
    [FieldOffset(32), KernelField("hw.hardware_exit_reason")] public ulong HwHardwareExitReason;

    // KVM_EXIT_FAIL_ENTRY
    [FieldOffset(32), KernelField("fail_entry.hardware_entry_failure_reason")] public ulong FailEntryHardwareEntryFailureReason;
    [FieldOffset(40), KernelField("fail_entry.cpu")] public uint FailEntryCpu;

    // KVM_EXIT_EXCEPTION
    [FieldOffset(32), KernelField("ex.exception")] public uint ExException;
    [FieldOffset(36), KernelField("ex.error_code")] public uint ExErrorCode;

    // KVM_EXIT_IO: data lives in the vCPU mapping at data_offset, size * count bytes.
    [FieldOffset(32), KernelField("io.direction")] public byte IoDirection;
    [FieldOffset(33), KernelField("io.size")] public byte IoSize;
    [FieldOffset(34), KernelField("io.port")] public ushort IoPort;
    [FieldOffset(36), KernelField("io.count")] public uint IoCount;
    [FieldOffset(40), KernelField("io.data_offset")] public ulong IoDataOffset;

    // KVM_EXIT_MMIO: for a read, userspace fills data before the next KVM_RUN.
    [FieldOffset(32), KernelField("mmio.phys_addr")] public ulong MmioPhysAddr;
    [FieldOffset(40), KernelField("mmio.data")] public fixed byte MmioData[8];
    [FieldOffset(48), KernelField("mmio.len")] public uint MmioLen;
    [FieldOffset(52), KernelField("mmio.is_write")] public byte MmioIsWrite;

    // KVM_EXIT_INTERNAL_ERROR
    [FieldOffset(32), KernelField("internal.suberror")] public uint InternalSuberror;
    [FieldOffset(36), KernelField("internal.ndata")] public uint InternalNdata;
    [FieldOffset(40), KernelField("internal.data")] public fixed ulong InternalData[16];

    // KVM_EXIT_SYSTEM_EVENT (data sits in an anonymous union inside system_event)
    [FieldOffset(32), KernelField("system_event.type")] public uint SystemEventType;
    [FieldOffset(36), KernelField("system_event.ndata")] public uint SystemEventNdata;
    [FieldOffset(40), KernelField("system_event.data")] public fixed ulong SystemEventData[16];

    /// <summary>The whole exit union (256 bytes; its size is ABI).</summary>
    [FieldOffset(32), KernelField("padding")] public fixed byte ExitUnion[256];

    [FieldOffset(288)] public ulong KvmValidRegs;
    [FieldOffset(296)] public ulong KvmDirtyRegs;

    /// <summary>union s: kvm_sync_regs or 2048 bytes of padding.</summary>
    [FieldOffset(304), KernelField("s")] public fixed byte SyncRegs[2048];
}
