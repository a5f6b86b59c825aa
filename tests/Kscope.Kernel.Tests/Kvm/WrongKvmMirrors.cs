using System.Runtime.InteropServices;
using Kscope.Native;

namespace Kscope.Kernel.Tests.Kvm;

// Deliberately wrong copies of kscope's KVM mirrors; KvmMirrorVerifierTests proves the BTF verifier catches each.

// WRONG: struct kvm_run's exit union read at offset 40 instead of 32 (as if padding1 were 14 bytes).
[StructLayout(LayoutKind.Explicit, Size = 2352)]
[KernelStruct("kvm_run")]
internal struct WrongKvmRunUnionOffset
{
    [FieldOffset(8)] public uint ExitReason;
    [FieldOffset(40), KernelField("io.port")] public ushort IoPort;
}

// WRONG: the uapi header's spelling "immediate_exit"; the kernel (and BTF) call it immediate_exit__unsafe.
[StructLayout(LayoutKind.Sequential)]
[KernelStruct("kvm_run", Prefix = true)]
internal struct WrongKvmRunImmediateExitName
{
    public byte RequestInterruptWindow;
    public byte ImmediateExit;
}

// WRONG: struct kvm_segment with dpl and db swapped and the trailing padding byte forgotten (23 bytes -> 24 by
// alignment, so only the swap shows; the size stays right, which is why every field offset is checked).
[StructLayout(LayoutKind.Sequential)]
[KernelStruct("kvm_segment")]
internal struct WrongKvmSegmentOrder
{
    public ulong Base;
    public uint Limit;
    public ushort Selector;
    public byte Type;
    public byte Present;
    public byte Db;
    public byte Dpl;
    public byte S;
    public byte L;
    public byte G;
    public byte Avl;
    public byte Unusable;
}

// WRONG: struct kvm_cpuid_entry2 without its 12 padding bytes (28 bytes, the kernel's is 40): an array of
// these handed to KVM_SET_CPUID2 would be misread from the second entry on.
[StructLayout(LayoutKind.Sequential)]
[KernelStruct("kvm_cpuid_entry2")]
internal struct WrongKvmCpuidEntry2Size
{
    public uint Function;
    public uint Index;
    public uint Flags;
    public uint Eax;
    public uint Ebx;
    public uint Ecx;
    public uint Edx;
}
