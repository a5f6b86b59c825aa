using System.Runtime.InteropServices;

namespace Kscope.Native.Kvm;

// struct kvm_cpuid_entry2, arch/x86/include/uapi/asm/kvm.h: one CPUID leaf (function, sub-leaf index). 40 bytes.
[StructLayout(LayoutKind.Sequential)]
[KernelStruct("kvm_cpuid_entry2")]
public unsafe struct KvmCpuidEntry2
{
    public uint Function;
    public uint Index;

    /// <summary>KVM_CPUID_FLAG_SIGNIFCANT_INDEX (1): <see cref="Index"/> selects a sub-leaf.</summary>
    public uint Flags;
    public uint Eax;
    public uint Ebx;
    public uint Ecx;
    public uint Edx;
    public fixed uint Padding[3];
}
