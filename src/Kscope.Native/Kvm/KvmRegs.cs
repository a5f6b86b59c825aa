using System.Runtime.InteropServices;

namespace Kscope.Native.Kvm;

// struct kvm_regs, arch/x86/include/uapi/asm/kvm.h (KVM_GET_REGS / KVM_SET_REGS): 144 bytes.
[StructLayout(LayoutKind.Sequential)]
[KernelStruct("kvm_regs")]
public struct KvmRegs
{
    public ulong Rax;
    public ulong Rbx;
    public ulong Rcx;
    public ulong Rdx;
    public ulong Rsi;
    public ulong Rdi;
    public ulong Rsp;
    public ulong Rbp;
    public ulong R8;
    public ulong R9;
    public ulong R10;
    public ulong R11;
    public ulong R12;
    public ulong R13;
    public ulong R14;
    public ulong R15;
    public ulong Rip;
    public ulong Rflags;
}
