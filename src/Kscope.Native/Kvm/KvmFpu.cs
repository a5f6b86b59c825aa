using System.Runtime.InteropServices;

namespace Kscope.Native.Kvm;

// struct kvm_fpu, arch/x86/include/uapi/asm/kvm.h (KVM_GET_FPU / KVM_SET_FPU): the legacy FXSAVE view. 416 bytes.
[StructLayout(LayoutKind.Sequential)]
[KernelStruct("kvm_fpu")]
public unsafe struct KvmFpu
{
    public fixed byte Fpr[128];
    public ushort Fcw;
    public ushort Fsw;
    public byte Ftwx;
    public byte Pad1;
    public ushort LastOpcode;
    public ulong LastIp;
    public ulong LastDp;
    public fixed byte Xmm[256];
    public uint Mxcsr;
    public uint Pad2;
}
