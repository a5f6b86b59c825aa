using Kscope.Native;
using Kscope.Native.Kvm;

namespace Kscope.Kernel.Kvm;

/// <summary>
/// A KVM VM fd with its memory slots and vCPUs. Dispose releases, in order: vCPUs (kvm_run mapping, fd),
/// the VM fd, then the guest memory mappings (the kernel drops its references to them with the VM).
/// </summary>
public sealed class VirtualMachine : IDisposable
{
    /// <summary>Where kscope puts the three-page TSS Intel VMX needs for real mode (below 4 GiB, above guest RAM).</summary>
    public const ulong TssAddress = 0xfffb_d000;

    private const int MapNoReserve = 0x4000;
    private readonly List<GuestMemory> _memory = [];
    private readonly List<Vcpu> _vcpus = [];
    private bool _disposed;

    internal VirtualMachine(KvmSystem kvm, SafeFd fd)
    {
        Kvm = kvm;
        Fd = fd;
        try
        {
            if (KvmApi.CheckExtension(fd, KvmCapability.SetTssAddr) > 0)
            {
                KvmApi.SetTssAddr(fd, TssAddress);
            }
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    public KvmSystem Kvm { get; }

    public SafeFd Fd { get; }

    public IReadOnlyList<GuestMemory> Memory => _memory;

    public IReadOnlyList<Vcpu> Vcpus => _vcpus;

    /// <summary>True once <see cref="CreateIrqchip"/> succeeded: HLT then waits in the kernel for an interrupt instead of exiting.</summary>
    public bool HasIrqchip { get; private set; }

    /// <summary>KVM_CHECK_EXTENSION on the VM fd (some answers are per VM).</summary>
    public int CheckExtension(KvmCapability capability) => KvmApi.CheckExtension(Fd, capability);

    /// <summary>
    /// Maps <paramref name="size"/> bytes of anonymous shared memory and installs it as the next slot at
    /// <paramref name="guestPhysicalAddress"/> (both page aligned).
    /// </summary>
    public GuestMemory AddMemory(ulong guestPhysicalAddress, ulong size, bool readOnly = false)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ulong page = (ulong)Environment.SystemPageSize;
        if (size == 0 || size % page != 0 || guestPhysicalAddress % page != 0)
        {
            throw new ArgumentException($"guest memory 0x{guestPhysicalAddress:x}+0x{size:x} must be non-empty and page aligned");
        }
        MemoryMapping mapping = MemoryMapping.Map(null, (nuint)size, MemoryMapping.ProtRead | MemoryMapping.ProtWrite,
            MemoryMapping.MapShared | MemoryMapping.MapAnonymous | MapNoReserve, 0, $"mmap guest memory ({size} bytes)");
        int slot = _memory.Count;
        try
        {
            unsafe
            {
                KvmApi.SetUserMemoryRegion(Fd, new KvmUserspaceMemoryRegion
                {
                    Slot = (uint)slot,
                    Flags = readOnly ? 2u : 0u, // KVM_MEM_READONLY
                    GuestPhysAddr = guestPhysicalAddress,
                    MemorySize = size,
                    UserspaceAddr = (ulong)mapping.Pointer,
                });
            }
        }
        catch
        {
            mapping.Dispose();
            throw;
        }
        var memory = new GuestMemory(slot, guestPhysicalAddress, mapping, readOnly);
        _memory.Add(memory);
        return memory;
    }

    /// <summary>The slot holding a guest-physical address, or null (an access there is MMIO).</summary>
    public GuestMemory? FindMemory(ulong guestPhysicalAddress) => _memory.Find(m => m.Contains(guestPhysicalAddress));

    /// <summary>KVM_CREATE_IRQCHIP (before any vCPU). With it, HLT no longer exits to userspace.</summary>
    public void CreateIrqchip()
    {
        KvmApi.CreateIrqchip(Fd);
        HasIrqchip = true;
    }

    /// <summary>KVM_CREATE_VCPU and the kvm_run mapping.</summary>
    public Vcpu CreateVcpu(int id = -1)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var vcpu = Vcpu.Create(this, id < 0 ? _vcpus.Count : id);
        _vcpus.Add(vcpu);
        return vcpu;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        foreach (Vcpu vcpu in _vcpus)
        {
            vcpu.Dispose();
        }
        Fd.Dispose();
        foreach (GuestMemory memory in _memory)
        {
            memory.Mapping.Dispose();
        }
    }
}
