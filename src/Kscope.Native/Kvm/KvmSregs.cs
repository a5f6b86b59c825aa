using System.Runtime.InteropServices;

namespace Kscope.Native.Kvm;

// struct kvm_sregs, arch/x86/include/uapi/asm/kvm.h (KVM_GET_SREGS / KVM_SET_SREGS): 312 bytes.
[StructLayout(LayoutKind.Sequential)]
[KernelStruct("kvm_sregs")]
public unsafe struct KvmSregs
{
    public KvmSegment Cs;
    public KvmSegment Ds;
    public KvmSegment Es;
    public KvmSegment Fs;
    public KvmSegment Gs;
    public KvmSegment Ss;
    public KvmSegment Tr;
    public KvmSegment Ldt;
    public KvmDtable Gdt;
    public KvmDtable Idt;
    public ulong Cr0;
    public ulong Cr2;
    public ulong Cr3;
    public ulong Cr4;
    public ulong Cr8;
    public ulong Efer;
    public ulong ApicBase;

    /// <summary>KVM_NR_INTERRUPTS (256) bits: the pending external interrupt, if any.</summary>
    public fixed ulong InterruptBitmap[4];
}
