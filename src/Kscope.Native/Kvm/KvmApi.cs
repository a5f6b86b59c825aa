using System.Runtime.InteropServices;

namespace Kscope.Native.Kvm;

/// <summary>
/// The KVM ioctls, one method each, named after the kernel's (KVM_CREATE_VM -> <see cref="CreateVm"/>).
/// Failures throw <see cref="KernelException"/> naming the ioctl, except <see cref="Run"/>, whose EINTR and
/// EAGAIN are part of normal operation and come back as a value.
/// </summary>
public static unsafe class KvmApi
{
    /// <summary>The only stable KVM API version (include/uapi/linux/kvm.h KVM_API_VERSION).</summary>
    public const int ApiVersion = 12;

    /// <summary>KVM_GET_API_VERSION on /dev/kvm.</summary>
    public static int GetApiVersion(SafeFd kvm) => Posix.Ioctl(kvm, KvmIoctl.GetApiVersion, 0, "ioctl KVM_GET_API_VERSION");

    /// <summary>KVM_CREATE_VM (machine type 0, the default). Returns the VM fd.</summary>
    public static SafeFd CreateVm(SafeFd kvm) =>
        new(Posix.Ioctl(kvm, KvmIoctl.CreateVm, 0, "ioctl KVM_CREATE_VM"));

    /// <summary>KVM_CHECK_EXTENSION on /dev/kvm or a VM fd: 0 when absent, otherwise a capability-specific value.</summary>
    public static int CheckExtension(SafeFd fd, KvmCapability capability) =>
        Posix.Ioctl(fd, KvmIoctl.CheckExtension, (nint)capability, $"ioctl KVM_CHECK_EXTENSION({capability})");

    /// <summary>KVM_GET_VCPU_MMAP_SIZE: bytes to mmap from a vCPU fd (kvm_run and the pages after it).</summary>
    public static int GetVcpuMmapSize(SafeFd kvm) => Posix.Ioctl(kvm, KvmIoctl.GetVcpuMmapSize, 0, "ioctl KVM_GET_VCPU_MMAP_SIZE");

    /// <summary>
    /// KVM_GET_SUPPORTED_CPUID into <paramref name="buffer"/> (a kvm_cpuid2 header followed by room for
    /// <c>header->Nent</c> entries); the kernel rewrites Nent. E2BIG means the buffer is too small.
    /// </summary>
    public static void GetSupportedCpuid(SafeFd kvm, KvmCpuid2* buffer) =>
        Posix.Ioctl(kvm, KvmIoctl.GetSupportedCpuid, (nint)buffer, "ioctl KVM_GET_SUPPORTED_CPUID");

    /// <summary>KVM_CREATE_VCPU with a vCPU id. Returns the vCPU fd.</summary>
    public static SafeFd CreateVcpu(SafeFd vm, int id) =>
        new(Posix.Ioctl(vm, KvmIoctl.CreateVcpu, id, $"ioctl KVM_CREATE_VCPU({id})"));

    /// <summary>KVM_SET_USER_MEMORY_REGION: adds, moves or (size 0) deletes a guest memory slot.</summary>
    public static void SetUserMemoryRegion(SafeFd vm, in KvmUserspaceMemoryRegion region)
    {
        fixed (KvmUserspaceMemoryRegion* p = &region)
        {
            Posix.Ioctl(vm, KvmIoctl.SetUserMemoryRegion, (nint)p, $"ioctl KVM_SET_USER_MEMORY_REGION(slot {region.Slot})");
        }
    }

    /// <summary>KVM_SET_TSS_ADDR: three pages of guest-physical space Intel VMX needs for real mode.</summary>
    public static void SetTssAddr(SafeFd vm, ulong address) => Posix.Ioctl(vm, KvmIoctl.SetTssAddr, (nint)address, "ioctl KVM_SET_TSS_ADDR");

    /// <summary>KVM_CREATE_IRQCHIP: in-kernel PIC, IOAPIC and local APICs. Must precede KVM_CREATE_VCPU.</summary>
    public static void CreateIrqchip(SafeFd vm) => Posix.Ioctl(vm, KvmIoctl.CreateIrqchip, 0, "ioctl KVM_CREATE_IRQCHIP");

    /// <summary>
    /// KVM_RUN once. Returns 0 when the guest exited (read kvm_run.exit_reason), or the errno: EINTR (a
    /// signal or kvm_run.immediate_exit), EAGAIN (retry). Other errnos are returned too; the caller throws.
    /// </summary>
    public static Errno Run(SafeFd vcpu)
    {
        bool added = false;
        vcpu.DangerousAddRef(ref added);
        try
        {
            return Run(vcpu.Value);
        }
        finally
        {
            if (added)
            {
                vcpu.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// KVM_RUN on a raw vCPU descriptor the caller keeps open (it holds a SafeHandle reference for as long as it
    /// may call this): the run loop's hot path, without per-call reference counting or last-error bookkeeping.
    /// Same results as <see cref="Run(SafeFd)"/>: 0 or the errno (EINTR, EAGAIN, …) read straight after the call.
    /// </summary>
    internal static Errno Run(int vcpuFd) =>
        Interop.Libc.IoctlRun(vcpuFd, KvmIoctl.Run, 0) == 0 ? 0 : (Errno)Marshal.GetLastSystemError();

    public static KvmRegs GetRegs(SafeFd vcpu)
    {
        KvmRegs regs;
        Posix.Ioctl(vcpu, KvmIoctl.GetRegs, (nint)(&regs), "ioctl KVM_GET_REGS");
        return regs;
    }

    public static void SetRegs(SafeFd vcpu, in KvmRegs regs)
    {
        fixed (KvmRegs* p = &regs)
        {
            Posix.Ioctl(vcpu, KvmIoctl.SetRegs, (nint)p, "ioctl KVM_SET_REGS");
        }
    }

    public static KvmSregs GetSregs(SafeFd vcpu)
    {
        KvmSregs sregs;
        Posix.Ioctl(vcpu, KvmIoctl.GetSregs, (nint)(&sregs), "ioctl KVM_GET_SREGS");
        return sregs;
    }

    public static void SetSregs(SafeFd vcpu, in KvmSregs sregs)
    {
        fixed (KvmSregs* p = &sregs)
        {
            Posix.Ioctl(vcpu, KvmIoctl.SetSregs, (nint)p, "ioctl KVM_SET_SREGS");
        }
    }

    public static KvmFpu GetFpu(SafeFd vcpu)
    {
        KvmFpu fpu;
        Posix.Ioctl(vcpu, KvmIoctl.GetFpu, (nint)(&fpu), "ioctl KVM_GET_FPU");
        return fpu;
    }

    public static void SetFpu(SafeFd vcpu, in KvmFpu fpu)
    {
        fixed (KvmFpu* p = &fpu)
        {
            Posix.Ioctl(vcpu, KvmIoctl.SetFpu, (nint)p, "ioctl KVM_SET_FPU");
        }
    }

    /// <summary>KVM_SET_CPUID2 from a kvm_cpuid2 header followed by Nent entries.</summary>
    public static void SetCpuid2(SafeFd vcpu, KvmCpuid2* table) =>
        Posix.Ioctl(vcpu, KvmIoctl.SetCpuid2, (nint)table, "ioctl KVM_SET_CPUID2");

    /// <summary>KVM_GET_MSRS: fills the Data of each entry after the header; returns how many were read.</summary>
    public static int GetMsrs(SafeFd vcpu, KvmMsrs* msrs) => Posix.Ioctl(vcpu, KvmIoctl.GetMsrs, (nint)msrs, "ioctl KVM_GET_MSRS");

    /// <summary>KVM_SET_MSRS: returns how many were written (stops at the first the kernel refuses).</summary>
    public static int SetMsrs(SafeFd vcpu, KvmMsrs* msrs) => Posix.Ioctl(vcpu, KvmIoctl.SetMsrs, (nint)msrs, "ioctl KVM_SET_MSRS");
}
