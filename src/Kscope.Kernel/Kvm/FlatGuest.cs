namespace Kscope.Kernel.Kvm;

/// <summary>
/// A one-vCPU VM running a flat binary: guest RAM at physical 0, the image copied to <see cref="LoadAddress"/>,
/// the vCPU set up for <see cref="Mode"/> and pointing at the entry. Long mode keeps its GDT and page tables in
/// the top 16 KiB of RAM (the stack starts just below them). Dispose releases the vCPU, VM and memory.
/// </summary>
public sealed class FlatGuest : IDisposable
{
    public const ulong DefaultMemorySize = 2 << 20;
    public const ulong DefaultLoadAddress = 0x1000;

    private FlatGuest(VirtualMachine vm, GuestMemory memory, Vcpu vcpu, GuestMode mode, ulong load, ulong entry)
    {
        Vm = vm;
        Memory = memory;
        Vcpu = vcpu;
        Mode = mode;
        LoadAddress = load;
        EntryAddress = entry;
    }

    public VirtualMachine Vm { get; }

    public GuestMemory Memory { get; }

    public Vcpu Vcpu { get; }

    public GuestMode Mode { get; }

    public ulong LoadAddress { get; }

    public ulong EntryAddress { get; }

    /// <summary>Where long mode's tables start (the top 16 KiB of RAM).</summary>
    public static ulong LongModeTablesAddress(ulong memorySize) => memorySize - GuestSetup.LongModeTablesSize;

    public static FlatGuest Create(KvmSystem kvm, ReadOnlySpan<byte> image, GuestMode mode, ulong memorySize = DefaultMemorySize,
        ulong load = DefaultLoadAddress, ulong? entry = null)
    {
        ulong start = entry ?? load;
        ulong limit = mode == GuestMode.Long ? LongModeTablesAddress(memorySize) : Math.Min(memorySize, 0x10_0000);
        if (memorySize < 0x10000 || memorySize % 0x1000 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(memorySize), $"guest memory {memorySize} must be at least 64 KiB and a multiple of 4 KiB");
        }
        if (mode == GuestMode.Long && memorySize > GuestSetup.LongModeMappedBytes)
        {
            throw new ArgumentOutOfRangeException(nameof(memorySize), "long-mode guests map only the first 1 GiB");
        }
        if (load > limit || (ulong)image.Length > limit - load)
        {
            throw new ArgumentOutOfRangeException(nameof(image),
                $"image of {image.Length} bytes at 0x{load:x} does not fit below 0x{limit:x} ({(mode == GuestMode.Long ? "long-mode tables" : "1 MiB real-mode limit or memory size")})");
        }
        VirtualMachine vm = kvm.CreateVm();
        try
        {
            GuestMemory memory = vm.AddMemory(0, memorySize);
            memory.Write(load, image);
            Vcpu vcpu = vm.CreateVcpu();
            if (mode == GuestMode.Real)
            {
                GuestSetup.RealMode(vcpu, start);
            }
            else
            {
                GuestSetup.LongMode(vcpu, memory, start, LongModeTablesAddress(memorySize));
            }
            return new FlatGuest(vm, memory, vcpu, mode, load, start);
        }
        catch
        {
            vm.Dispose();
            throw;
        }
    }

    /// <summary>A runner over this guest's vCPU.</summary>
    public GuestRunner CreateRunner() => new(Vcpu);

    public void Dispose() => Vm.Dispose();
}
