namespace Kscope.Native.Kvm;

/// <summary>
/// KVM ioctl request numbers (include/uapi/linux/kvm.h, KVMIO = 0xAE), computed from the mirrors' sizes by
/// <see cref="IoctlNumber"/>. Tests compare every entry of <see cref="All"/> with what gcc computes from
/// &lt;linux/kvm.h&gt;.
/// </summary>
public static class KvmIoctl
{
    public const byte KvmIo = 0xAE;

    // on /dev/kvm
    public static readonly nuint GetApiVersion = IoctlNumber.Io(KvmIo, 0x00);
    public static readonly nuint CreateVm = IoctlNumber.Io(KvmIo, 0x01);
    public static readonly nuint CheckExtension = IoctlNumber.Io(KvmIo, 0x03);
    public static readonly nuint GetVcpuMmapSize = IoctlNumber.Io(KvmIo, 0x04);
    public static readonly nuint GetSupportedCpuid = IoctlNumber.Iowr<KvmCpuid2>(KvmIo, 0x05);

    // on a VM fd
    public static readonly nuint CreateVcpu = IoctlNumber.Io(KvmIo, 0x41);
    public static readonly nuint SetUserMemoryRegion = IoctlNumber.Iow<KvmUserspaceMemoryRegion>(KvmIo, 0x46);
    public static readonly nuint SetTssAddr = IoctlNumber.Io(KvmIo, 0x47);
    public static readonly nuint SetIdentityMapAddr = IoctlNumber.Iow<ulong>(KvmIo, 0x48);
    public static readonly nuint CreateIrqchip = IoctlNumber.Io(KvmIo, 0x60);

    // on a vCPU fd
    public static readonly nuint Run = IoctlNumber.Io(KvmIo, 0x80);
    public static readonly nuint GetRegs = IoctlNumber.Ior<KvmRegs>(KvmIo, 0x81);
    public static readonly nuint SetRegs = IoctlNumber.Iow<KvmRegs>(KvmIo, 0x82);
    public static readonly nuint GetSregs = IoctlNumber.Ior<KvmSregs>(KvmIo, 0x83);
    public static readonly nuint SetSregs = IoctlNumber.Iow<KvmSregs>(KvmIo, 0x84);
    public static readonly nuint GetMsrs = IoctlNumber.Iowr<KvmMsrs>(KvmIo, 0x88);
    public static readonly nuint SetMsrs = IoctlNumber.Iow<KvmMsrs>(KvmIo, 0x89);
    public static readonly nuint GetFpu = IoctlNumber.Ior<KvmFpu>(KvmIo, 0x8c);
    public static readonly nuint SetFpu = IoctlNumber.Iow<KvmFpu>(KvmIo, 0x8d);
    public static readonly nuint SetCpuid2 = IoctlNumber.Iow<KvmCpuid2>(KvmIo, 0x90);
    public static readonly nuint GetCpuid2 = IoctlNumber.Iowr<KvmCpuid2>(KvmIo, 0x91);

    /// <summary>Every request above with the kernel header's macro name, for tests and <c>kscope kvm check --json</c>.</summary>
    public static IReadOnlyList<(string Name, nuint Request)> All { get; } =
    [
        ("KVM_GET_API_VERSION", GetApiVersion),
        ("KVM_CREATE_VM", CreateVm),
        ("KVM_CHECK_EXTENSION", CheckExtension),
        ("KVM_GET_VCPU_MMAP_SIZE", GetVcpuMmapSize),
        ("KVM_GET_SUPPORTED_CPUID", GetSupportedCpuid),
        ("KVM_CREATE_VCPU", CreateVcpu),
        ("KVM_SET_USER_MEMORY_REGION", SetUserMemoryRegion),
        ("KVM_SET_TSS_ADDR", SetTssAddr),
        ("KVM_SET_IDENTITY_MAP_ADDR", SetIdentityMapAddr),
        ("KVM_CREATE_IRQCHIP", CreateIrqchip),
        ("KVM_RUN", Run),
        ("KVM_GET_REGS", GetRegs),
        ("KVM_SET_REGS", SetRegs),
        ("KVM_GET_SREGS", GetSregs),
        ("KVM_SET_SREGS", SetSregs),
        ("KVM_GET_MSRS", GetMsrs),
        ("KVM_SET_MSRS", SetMsrs),
        ("KVM_GET_FPU", GetFpu),
        ("KVM_SET_FPU", SetFpu),
        ("KVM_SET_CPUID2", SetCpuid2),
        ("KVM_GET_CPUID2", GetCpuid2),
    ];
}
