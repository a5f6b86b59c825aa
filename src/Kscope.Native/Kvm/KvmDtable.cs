using System.Runtime.InteropServices;

namespace Kscope.Native.Kvm;

// struct kvm_dtable, arch/x86/include/uapi/asm/kvm.h: GDTR / IDTR. 16 bytes.
[StructLayout(LayoutKind.Sequential)]
[KernelStruct("kvm_dtable")]
public unsafe struct KvmDtable
{
    public ulong Base;
    public ushort Limit;
    public fixed ushort Padding[3];
}
