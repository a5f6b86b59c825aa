using System.Runtime.InteropServices;

namespace Kscope.Native.Kvm;

// struct kvm_msrs, arch/x86/include/uapi/asm/kvm.h (KVM_GET_MSRS / KVM_SET_MSRS): an 8-byte header followed
// by the flexible array `struct kvm_msr_entry entries[nmsrs]`; the ioctl number encodes the header only.
[StructLayout(LayoutKind.Sequential)]
[KernelStruct("kvm_msrs")]
public struct KvmMsrs
{
    public uint Nmsrs;
    public uint Pad;
}
