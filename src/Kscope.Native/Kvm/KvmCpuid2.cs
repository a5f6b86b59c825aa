using System.Runtime.InteropServices;

namespace Kscope.Native.Kvm;

// struct kvm_cpuid2, arch/x86/include/uapi/asm/kvm.h (KVM_GET_SUPPORTED_CPUID, KVM_SET_CPUID2): an 8-byte
// header followed by the flexible array `struct kvm_cpuid_entry2 entries[nent]`. The ioctl numbers encode
// only the header's size; callers allocate header + nent entries (see Kscope.Kernel.Kvm.CpuidTable).
[StructLayout(LayoutKind.Sequential)]
[KernelStruct("kvm_cpuid2")]
public struct KvmCpuid2
{
    public uint Nent;
    public uint Padding;
}
