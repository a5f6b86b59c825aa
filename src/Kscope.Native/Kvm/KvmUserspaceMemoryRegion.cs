using System.Runtime.InteropServices;

namespace Kscope.Native.Kvm;

// struct kvm_userspace_memory_region, include/uapi/linux/kvm.h (KVM_SET_USER_MEMORY_REGION): 32 bytes.
[StructLayout(LayoutKind.Sequential)]
[KernelStruct("kvm_userspace_memory_region")]
public struct KvmUserspaceMemoryRegion
{
    public uint Slot;

    /// <summary>KVM_MEM_LOG_DIRTY_PAGES (1), KVM_MEM_READONLY (2).</summary>
    public uint Flags;
    public ulong GuestPhysAddr;

    /// <summary>Bytes; 0 deletes the slot.</summary>
    public ulong MemorySize;

    /// <summary>The host virtual address backing the slot (page aligned).</summary>
    public ulong UserspaceAddr;
}
