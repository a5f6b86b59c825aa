using System.Runtime.InteropServices;

namespace Kscope.Native.Kvm;

// struct kvm_segment, arch/x86/include/uapi/asm/kvm.h: a segment register as KVM sees it
// (the hidden descriptor cache unpacked into fields). 24 bytes.
[StructLayout(LayoutKind.Sequential)]
[KernelStruct("kvm_segment")]
public struct KvmSegment
{
    public ulong Base;
    public uint Limit;
    public ushort Selector;
    public byte Type;
    public byte Present;
    public byte Dpl;
    public byte Db;
    public byte S;
    public byte L;
    public byte G;
    public byte Avl;
    public byte Unusable;
    public byte Padding;
}
