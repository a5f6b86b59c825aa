using System.Runtime.InteropServices;

namespace Kscope.Native.Kvm;

// struct kvm_msr_entry, arch/x86/include/uapi/asm/kvm.h: one model-specific register. 16 bytes.
[StructLayout(LayoutKind.Sequential)]
[KernelStruct("kvm_msr_entry")]
public struct KvmMsrEntry
{
    public uint Index;
    public uint Reserved;
    public ulong Data;
}
