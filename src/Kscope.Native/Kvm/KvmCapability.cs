namespace Kscope.Native.Kvm;

/// <summary>KVM_CAP_* numbers (include/uapi/linux/kvm.h) that kscope asks about with KVM_CHECK_EXTENSION.</summary>
public enum KvmCapability
{
    Irqchip = 0,
    Hlt = 1,
    UserMemory = 3,
    SetTssAddr = 4,
    Vapic = 6,
    ExtCpuid = 7,
    NrVcpus = 9,
    NrMemslots = 10,
    Pit = 11,
    CoalescedMmio = 15,
    SyncMmu = 16,
    Iommu = 18,
    SetIdentityMapAddr = 37,
    AdjustClock = 39,
    MaxVcpus = 66,
    ReadonlyMem = 81,
    ImmediateExit = 136,
    MaxVcpuId = 128,
    X86UserSpaceMsr = 188,
    SyncRegs = 74,
    X2ApicApi = 129,
    ExitHypercall = 201,
}
