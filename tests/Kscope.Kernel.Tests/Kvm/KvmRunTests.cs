using Kscope.Kernel.Kvm;
using Kscope.Native;
using Kscope.Native.Kvm;

namespace Kscope.Kernel.Tests.Kvm;

[Trait("Category", "Kernel")]
public class KvmRunTests
{
    [Fact]
    public void KvmSystem_Open_ReportsApiVersionAndMmapSize()
    {
        using KvmSystem kvm = KvmFixture.Open();
        Assert.Equal(12, kvm.ApiVersion);
        Assert.True(kvm.VcpuMmapSize >= 2352, $"vcpu mmap size {kvm.VcpuMmapSize}");
        Assert.True(kvm.CheckExtension(KvmCapability.UserMemory) > 0);
        Assert.Contains(kvm.GetSupportedCpuid(), e => e.Function == 0);
    }

    [Fact]
    public void RealMode_OutThenHlt_PrintsAndHalts()
    {
        using KvmSystem kvm = KvmFixture.Open();
        using FlatGuest guest = FlatGuest.Create(kvm, GuestPrograms.RealModeOutHlt, GuestMode.Real);
        var output = new List<byte>();
        GuestRunner runner = guest.CreateRunner();
        runner.ConsoleOutput = b => output.AddRange(b.ToArray());
        GuestRunResult result = runner.Run();
        Assert.Equal(GuestStop.Halted, result.Stop);
        Assert.Equal("R", KvmFixture.Text(output));
        Assert.Equal(1, result.ExitCounts[KvmExitReason.Io]);
        Assert.Equal(0x1000u + (ulong)GuestPrograms.RealModeOutHlt.Length, result.FinalRip);
    }

    [Fact]
    public void LongMode_PageTablesByKscope_Runs64BitCode()
    {
        using KvmSystem kvm = KvmFixture.Open();
        using FlatGuest guest = FlatGuest.Create(kvm, GuestPrograms.LongModeOutHlt, GuestMode.Long);
        var output = new List<byte>();
        GuestRunner runner = guest.CreateRunner();
        runner.ConsoleOutput = b => output.AddRange(b.ToArray());
        GuestRunResult result = runner.Run();
        Assert.Equal(GuestStop.Halted, result.Stop);
        Assert.Equal("64\n", KvmFixture.Text(output));
        KvmSregs sregs = guest.Vcpu.GetSpecialRegisters();
        Assert.Equal(0x500ul, sregs.Efer & 0x500); // LME | LMA
        Assert.Equal(FlatGuest.LongModeTablesAddress(FlatGuest.DefaultMemorySize) + 0x1000, sregs.Cr3);
    }

    [Fact]
    public void Mmio_WriteAndRead_DecodedAndAnswered()
    {
        using KvmSystem kvm = KvmFixture.Open();
        using FlatGuest guest = FlatGuest.Create(kvm, GuestPrograms.LongModeMmio, GuestMode.Long);
        var writes = new List<(ulong Address, byte[] Data)>();
        var reads = new List<(ulong Address, int Length)>();
        var output = new List<byte>();
        GuestRunner runner = guest.CreateRunner();
        runner.MmioWrite = (a, d) => writes.Add((a, d.ToArray()));
        runner.MmioRead = (a, n) => { reads.Add((a, n)); return 0x11223371; };
        runner.ConsoleOutput = b => output.AddRange(b.ToArray());
        GuestRunResult result = runner.Run();
        Assert.Equal(GuestStop.Halted, result.Stop);
        Assert.Equal([(GuestPrograms.MmioAddress, new byte[] { 0x5a })], writes.Select(w => (w.Address, w.Data)).ToArray(), new MmioComparer());
        Assert.Equal([(GuestPrograms.MmioAddress + 8, 4)], reads);
        Assert.Equal("q", KvmFixture.Text(output)); // 0x71, the low byte the host answered
        Assert.Equal(2, result.ExitCounts[KvmExitReason.Mmio]);
    }

    [Fact]
    public void TripleFault_ReportsShutdownCleanly()
    {
        using KvmSystem kvm = KvmFixture.Open();
        using FlatGuest guest = FlatGuest.Create(kvm, GuestPrograms.TripleFault, GuestMode.Long);
        GuestRunResult result = guest.CreateRunner().Run();
        Assert.Equal(GuestStop.Shutdown, result.Stop);
        Assert.Equal(KvmExitReason.Shutdown, result.LastExit.Reason);
    }

    [Fact]
    public void KvmRun_SignalledMidGuest_ReturnsEintrAndLoopResumes()
    {
        using KvmSystem kvm = KvmFixture.Open();
        // The guest spins until the host sets a flag in guest memory, so it is still inside KVM_RUN when the
        // signals land, however fast (bare metal) or slow (nested, emulated) the guest executes.
        const uint Flag = 0x3000;
        using FlatGuest guest = FlatGuest.Create(kvm, GuestPrograms.WaitForFlag(Flag), GuestMode.Long);
        var output = new List<byte>();
        GuestRunner runner = guest.CreateRunner();
        runner.ConsoleOutput = b => output.AddRange(b.ToArray());
        int signalled = 0;
        var kicker = new Thread(() =>
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (signalled < 20 && clock.Elapsed < TimeSpan.FromSeconds(20))
            {
                Thread.Sleep(5);
                if (guest.Vcpu.SignalRunningThread())
                {
                    signalled++;
                }
            }
            guest.Memory.Slice(Flag, 1)[0] = 1;
        });
        kicker.Start();
        GuestRunResult result = runner.Run();
        kicker.Join();
        Assert.True(signalled > 0, "the kicker never found the vCPU inside KVM_RUN");
        Assert.True(result.Interrupts > 0, $"KVM_RUN never returned EINTR ({signalled} signals sent)");
        Assert.Equal(GuestStop.Halted, result.Stop);
        Assert.Equal("D", KvmFixture.Text(output));
        Assert.Equal(0, guest.Vcpu.RunState.ImmediateExit);
    }

    [Fact]
    public void Kick_FromAnotherThread_StopsSpinningGuest()
    {
        using KvmSystem kvm = KvmFixture.Open();
        using FlatGuest guest = FlatGuest.Create(kvm, GuestPrograms.Forever, GuestMode.Long);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        GuestRunResult result = guest.CreateRunner().Run(cts.Token);
        Assert.Equal(GuestStop.Cancelled, result.Stop);
        Assert.True(result.Interrupts >= 1);
    }

    [Fact]
    public void Kick_BeforeRun_ImmediateExitReturnsEintrAtOnce()
    {
        using KvmSystem kvm = KvmFixture.Open();
        using FlatGuest guest = FlatGuest.Create(kvm, GuestPrograms.Forever, GuestMode.Real);
        guest.Vcpu.Kick();
        VcpuExit exit = guest.Vcpu.Run();
        Assert.True(exit.Interrupted);
        Assert.Equal(0, guest.Vcpu.RunState.ImmediateExit);
    }

    [Fact]
    public void Run_IoExits_AllocateNothing()
    {
        using KvmSystem kvm = KvmFixture.Open();
        using FlatGuest guest = FlatGuest.Create(kvm, GuestPrograms.OutLoop, GuestMode.Real);
        Vcpu vcpu = guest.Vcpu;
        for (int i = 0; i < 100; i++)
        {
            Assert.Equal(KvmExitReason.Io, vcpu.Run().Reason);
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            VcpuExit exit = vcpu.Run();
            if (exit.Reason != KvmExitReason.Io || !exit.IoOut || exit.IoPort != 0 || exit.IoSize != 1 || exit.IoCount != 1)
            {
                Assert.Fail($"exit {i}: {exit}");
            }
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Run_FdDisposedOutsideTheVcpu_KeepsRunningUntilVcpuDisposed()
    {
        using KvmSystem kvm = KvmFixture.Open();
        using FlatGuest guest = FlatGuest.Create(kvm, GuestPrograms.OutLoop, GuestMode.Real);
        guest.Vcpu.Fd.Dispose(); // the vCPU holds its own reference: the descriptor stays open (no reuse race)
        Assert.Equal(KvmExitReason.Io, guest.Vcpu.Run().Reason);
        guest.Vcpu.Dispose();
        Assert.Throws<ObjectDisposedException>(() => guest.Vcpu.Run());
        guest.Vcpu.Dispose(); // idempotent
    }

    [Fact]
    public void MaxExits_StopsAnIoLoop()
    {
        using KvmSystem kvm = KvmFixture.Open();
        using FlatGuest guest = FlatGuest.Create(kvm, GuestPrograms.OutLoop, GuestMode.Real);
        var ports = new HashSet<ushort>();
        GuestRunner runner = guest.CreateRunner();
        runner.MaxExits = 50;
        runner.PortWrite = (p, _) => ports.Add(p);
        GuestRunResult result = runner.Run();
        Assert.Equal(GuestStop.MaxExits, result.Stop);
        Assert.Equal(50, result.TotalExits);
        Assert.Equal([0], ports);
    }

    [Fact]
    public void Registers_SetThenGet_RoundTrip()
    {
        using KvmSystem kvm = KvmFixture.Open();
        using FlatGuest guest = FlatGuest.Create(kvm, GuestPrograms.RealModeOutHlt, GuestMode.Real);
        KvmRegs regs = guest.Vcpu.GetRegisters();
        regs.Rax = 0x1122334455667788;
        regs.R15 = 42;
        guest.Vcpu.SetRegisters(regs);
        KvmRegs back = guest.Vcpu.GetRegisters();
        Assert.Equal(0x1122334455667788ul, back.Rax);
        Assert.Equal(42ul, back.R15);
        KvmFpu fpu = guest.Vcpu.GetFpu();
        guest.Vcpu.SetFpu(fpu);
        const uint Ia32TscAux = 0xc0000103;
        guest.Vcpu.SetMsr(Ia32TscAux, 7);
        Assert.Equal(7ul, guest.Vcpu.GetMsr(Ia32TscAux));
    }

    private sealed class MmioComparer : IEqualityComparer<(ulong Address, byte[] Data)>
    {
        public bool Equals((ulong Address, byte[] Data) x, (ulong Address, byte[] Data) y) => x.Address == y.Address && x.Data.SequenceEqual(y.Data);

        public int GetHashCode((ulong Address, byte[] Data) obj) => obj.Address.GetHashCode();
    }
}
