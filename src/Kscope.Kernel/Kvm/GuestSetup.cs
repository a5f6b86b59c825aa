using Kscope.Native.Kvm;

namespace Kscope.Kernel.Kvm;

/// <summary>
/// Puts a vCPU into a known state to run flat-binary code: real mode, or long mode with identity page tables,
/// a GDT and an empty IDT (so any exception escalates to a triple fault: KVM_EXIT_SHUTDOWN) that kscope writes
/// into guest memory.
/// </summary>
public static class GuestSetup
{
    /// <summary>Bytes of guest memory the long-mode structures take: GDT, PML4, PDPT, PD (one 4 KiB page each).</summary>
    public const ulong LongModeTablesSize = 4 * 0x1000;

    /// <summary>Guest-physical bytes the long-mode page tables identity-map (512 x 2 MiB pages).</summary>
    public const ulong LongModeMappedBytes = 1UL << 30;

    private const ulong Cr0Pe = 1UL << 0;
    private const ulong Cr0Mp = 1UL << 1;
    private const ulong Cr0Et = 1UL << 4;
    private const ulong Cr0Ne = 1UL << 5;
    private const ulong Cr0Wp = 1UL << 16;
    private const ulong Cr0Pg = 1UL << 31;
    private const ulong Cr4Pae = 1UL << 5;
    private const ulong EferLme = 1UL << 8;
    private const ulong EferLma = 1UL << 10;
    private const ulong PagePresent = 1;
    private const ulong PageWritable = 2;
    private const ulong PageHuge = 0x80;

    // GDT entries: null, 64-bit code (selector 0x08), data (selector 0x10).
    private const ulong GdtCode64 = 0x00af_9a00_0000_ffff;
    private const ulong GdtData = 0x00cf_9200_0000_ffff;

    /// <summary>Real mode: CS = DS = ES = FS = GS = SS = 0 (base 0), IP = <paramref name="entry"/>, SP = <paramref name="stack"/>.</summary>
    public static void RealMode(Vcpu vcpu, ulong entry, ulong stack = 0xfff0)
    {
        if (entry > 0xffff)
        {
            throw new ArgumentOutOfRangeException(nameof(entry), $"real-mode entry 0x{entry:x} must be below 64 KiB (CS is 0)");
        }
        KvmSregs sregs = vcpu.GetSpecialRegisters();
        ZeroSegment(ref sregs.Cs);
        ZeroSegment(ref sregs.Ds);
        ZeroSegment(ref sregs.Es);
        ZeroSegment(ref sregs.Fs);
        ZeroSegment(ref sregs.Gs);
        ZeroSegment(ref sregs.Ss);
        sregs.Cr0 &= ~(Cr0Pe | Cr0Pg);
        vcpu.SetSpecialRegisters(sregs);
        vcpu.SetRegisters(new KvmRegs { Rip = entry, Rsp = stack, Rflags = 2 });

        static void ZeroSegment(ref KvmSegment s)
        {
            s.Base = 0;
            s.Selector = 0;
        }
    }

    /// <summary>
    /// Long mode: writes GDT and page tables at <paramref name="tablesAddress"/> (4 pages, page aligned, inside
    /// <paramref name="memory"/>), loads CR0/CR3/CR4/EFER and flat 64-bit segments, the host's supported CPUID,
    /// RIP = <paramref name="entry"/>, RSP = <paramref name="tablesAddress"/> (the stack grows down below them).
    /// </summary>
    public static void LongMode(Vcpu vcpu, GuestMemory memory, ulong entry, ulong tablesAddress)
    {
        if (tablesAddress % 0x1000 != 0 || !memory.Contains(tablesAddress, LongModeTablesSize))
        {
            throw new ArgumentOutOfRangeException(nameof(tablesAddress), $"long-mode tables at 0x{tablesAddress:x} must be page aligned and inside guest memory");
        }
        ulong gdt = tablesAddress;
        ulong pml4 = tablesAddress + 0x1000;
        ulong pdpt = tablesAddress + 0x2000;
        ulong pd = tablesAddress + 0x3000;
        memory.Slice(tablesAddress, (int)LongModeTablesSize).Clear();
        memory.WriteUInt64(gdt + 8, GdtCode64);
        memory.WriteUInt64(gdt + 16, GdtData);
        memory.WriteUInt64(pml4, pdpt | PagePresent | PageWritable);
        memory.WriteUInt64(pdpt, pd | PagePresent | PageWritable);
        for (ulong i = 0; i < 512; i++)
        {
            memory.WriteUInt64(pd + i * 8, (i << 21) | PagePresent | PageWritable | PageHuge);
        }

        vcpu.SetCpuid(vcpu.Vm.Kvm.GetSupportedCpuid());

        KvmSregs sregs = vcpu.GetSpecialRegisters();
        sregs.Cs = new KvmSegment { Base = 0, Limit = 0xffff_ffff, Selector = 0x08, Type = 0xb, Present = 1, Dpl = 0, Db = 0, S = 1, L = 1, G = 1 };
        KvmSegment data = new() { Base = 0, Limit = 0xffff_ffff, Selector = 0x10, Type = 0x3, Present = 1, Dpl = 0, Db = 1, S = 1, L = 0, G = 1 };
        sregs.Ds = data;
        sregs.Es = data;
        sregs.Fs = data;
        sregs.Gs = data;
        sregs.Ss = data;
        sregs.Gdt = new KvmDtable { Base = gdt, Limit = 3 * 8 - 1 };
        sregs.Idt = new KvmDtable { Base = 0, Limit = 0 };
        sregs.Cr3 = pml4;
        sregs.Cr4 = Cr4Pae;
        sregs.Cr0 = Cr0Pe | Cr0Mp | Cr0Et | Cr0Ne | Cr0Wp | Cr0Pg;
        sregs.Efer = EferLme | EferLma;
        vcpu.SetSpecialRegisters(sregs);
        vcpu.SetRegisters(new KvmRegs { Rip = entry, Rsp = tablesAddress, Rflags = 2 });
    }
}
