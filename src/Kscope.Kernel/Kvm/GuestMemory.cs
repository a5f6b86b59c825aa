using System.Runtime.InteropServices;
using Kscope.Native;

namespace Kscope.Kernel.Kvm;

/// <summary>
/// One memory slot: anonymous shared host memory mapped into the guest at <see cref="GuestPhysicalAddress"/>.
/// Owned by its <see cref="VirtualMachine"/>, which unmaps it after closing the VM fd.
/// </summary>
public sealed unsafe class GuestMemory
{
    private readonly MemoryMapping _mapping;

    internal GuestMemory(int slot, ulong guestPhysicalAddress, MemoryMapping mapping, bool readOnly)
    {
        Slot = slot;
        GuestPhysicalAddress = guestPhysicalAddress;
        _mapping = mapping;
        ReadOnly = readOnly;
    }

    public int Slot { get; }

    public ulong GuestPhysicalAddress { get; }

    public ulong Size => (ulong)_mapping.Length;

    public bool ReadOnly { get; }

    /// <summary>The host address backing guest physical <see cref="GuestPhysicalAddress"/>.</summary>
    public byte* HostPointer => _mapping.Pointer;

    internal MemoryMapping Mapping => _mapping;

    /// <summary>True when [address, address + length) lies inside this slot.</summary>
    public bool Contains(ulong address, ulong length = 1) =>
        address >= GuestPhysicalAddress && length <= Size && address - GuestPhysicalAddress <= Size - length;

    /// <summary>A view of guest-physical [address, address + length).</summary>
    public Span<byte> Slice(ulong address, int length)
    {
        if (length < 0 || !Contains(address, (ulong)length))
        {
            throw new ArgumentOutOfRangeException(nameof(address),
                $"guest range 0x{address:x}+{length} is outside slot {Slot} (0x{GuestPhysicalAddress:x}-0x{GuestPhysicalAddress + Size:x})");
        }
        return new Span<byte>(HostPointer + (address - GuestPhysicalAddress), length);
    }

    /// <summary>Copies bytes into guest memory at a guest-physical address.</summary>
    public void Write(ulong address, ReadOnlySpan<byte> bytes) => bytes.CopyTo(Slice(address, bytes.Length));

    /// <summary>Writes a little-endian value at a guest-physical address.</summary>
    public void WriteUInt64(ulong address, ulong value) => MemoryMarshal.Write(Slice(address, 8), in value);
}
