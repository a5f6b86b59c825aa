using System.Diagnostics;
using System.Text;
using Kscope.Formats;
using Kscope.Formats.Procfs;
using Kscope.Kernel.Host;
using Kscope.Kernel.Kvm;
using Kscope.Native;
using Kscope.Native.Kvm;

namespace Kscope.Diagnostics.Kvm;

/// <summary>
/// <c>kscope kvm check</c>: is KVM usable here, what does it offer, and does kscope's ABI binding work end to
/// end (real-mode OUT+HLT, long mode with kscope's page tables, MMIO, triple fault, kick)?
/// </summary>
public static class KvmCheck
{
    private static readonly KvmCapability[] s_capabilities =
    [
        KvmCapability.UserMemory, KvmCapability.Irqchip, KvmCapability.Hlt, KvmCapability.SetTssAddr, KvmCapability.SetIdentityMapAddr,
        KvmCapability.ExtCpuid, KvmCapability.NrVcpus, KvmCapability.MaxVcpus, KvmCapability.NrMemslots, KvmCapability.ImmediateExit,
        KvmCapability.SyncMmu, KvmCapability.ReadonlyMem, KvmCapability.CoalescedMmio, KvmCapability.SyncRegs,
        KvmCapability.X86UserSpaceMsr, KvmCapability.ExitHypercall,
    ];

    /// <summary>Runs every probe and self-test. Throws only when /dev/kvm cannot be opened (missing: unsupported; EACCES: permission).</summary>
    public static KvmCheckReport Run()
    {
        (string backend, bool nested) = Backend();
        using KvmSystem kvm = KvmSystem.Open();
        var caps = s_capabilities.Select(c => new KvmCapabilityValue(CapabilityName(c), (int)c, SafeCheck(kvm, c))).ToList();
        int leaves = kvm.GetSupportedCpuid().Length;
        var tests = new List<KvmSelfTest>
        {
            SelfTest("real-mode OUT+HLT", () => RealMode(kvm)),
            SelfTest("long mode (kscope page tables)", () => LongMode(kvm)),
            SelfTest("MMIO exit (write and read)", () => Mmio(kvm)),
            SelfTest("triple fault -> SHUTDOWN", () => TripleFault(kvm)),
            SelfTest("kick (immediate_exit + signal) -> EINTR", () => Kick(kvm)),
        };
        return new KvmCheckReport(true, null, backend, nested, kvm.ApiVersion, kvm.VcpuMmapSize, leaves, caps, tests);
    }

    /// <summary>The KVM_CAP_ macro name: "KVM_CAP_IMMEDIATE_EXIT".</summary>
    public static string CapabilityName(KvmCapability c) => c switch
    {
        KvmCapability.X86UserSpaceMsr => "KVM_CAP_X86_USER_SPACE_MSR",
        KvmCapability.X2ApicApi => "KVM_CAP_X2APIC_API",
        _ => "KVM_CAP_" + string.Concat(c.ToString().Select((ch, i) => i > 0 && char.IsUpper(ch) ? "_" + ch : ch.ToString())).ToUpperInvariant(),
    };

    /// <summary>Which KVM module serves /dev/kvm (kvm_intel, kvm_amd, kvm_pvm…) and whether this host is itself a guest.</summary>
    public static (string Backend, bool Nested) Backend()
    {
        string backend = new[] { "kvm_intel", "kvm_amd", "kvm_pvm" }.FirstOrDefault(m => Directory.Exists("/sys/module/" + m)) ?? "unknown";
        bool nested = false;
        try
        {
            nested = CpuInfo.Flags(Procfs.ReadText("/proc/cpuinfo")).Contains("hypervisor");
        }
        catch (Exception e) when (e is KernelException or MalformedDataException)
        {
            // no /proc/cpuinfo to read, or one we cannot parse: not known to be a guest
        }
        return (backend, nested);
    }

    private static int SafeCheck(KvmSystem kvm, KvmCapability c)
    {
        try
        {
            return kvm.CheckExtension(c);
        }
        catch (KernelException)
        {
            return -1;
        }
    }

    private static KvmSelfTest SelfTest(string name, Func<string> body)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            string detail = body();
            return new KvmSelfTest(name, true, detail, clock.Elapsed);
        }
        catch (KernelException e)
        {
            return new KvmSelfTest(name, false, e.Message, clock.Elapsed);
        }
        catch (SelfTestFailure e)
        {
            return new KvmSelfTest(name, false, e.Message, clock.Elapsed);
        }
    }

    private static string RealMode(KvmSystem kvm)
    {
        using FlatGuest guest = FlatGuest.Create(kvm, GuestPrograms.RealModeOutHlt, GuestMode.Real);
        (GuestRunResult r, string output) = RunCapturing(guest);
        Expect(r, GuestStop.Halted);
        ExpectOutput(output, "R");
        return $"OUT 'R' to 0x3f8, then HLT at rip 0x{r.FinalRip:x} ({r.TotalExits} exits)";
    }

    private static string LongMode(KvmSystem kvm)
    {
        using FlatGuest guest = FlatGuest.Create(kvm, GuestPrograms.LongModeOutHlt, GuestMode.Long);
        (GuestRunResult r, string output) = RunCapturing(guest);
        Expect(r, GuestStop.Halted);
        ExpectOutput(output, "64\n");
        KvmSregs sregs = guest.Vcpu.GetSpecialRegisters();
        if ((sregs.Efer & 0x400) == 0)
        {
            throw new SelfTestFailure($"EFER.LMA clear after the run (efer 0x{sregs.Efer:x})");
        }
        return $"64-bit code ran with EFER 0x{sregs.Efer:x}, CR0 0x{sregs.Cr0:x}, CR3 0x{sregs.Cr3:x}";
    }

    private static string Mmio(KvmSystem kvm)
    {
        using FlatGuest guest = FlatGuest.Create(kvm, GuestPrograms.LongModeMmio, GuestMode.Long);
        GuestRunner runner = guest.CreateRunner();
        ulong? writeAddress = null;
        byte[] written = [];
        ulong? readAddress = null;
        int readLength = 0;
        var output = new StringBuilder();
        runner.MmioWrite = (a, d) => { writeAddress = a; written = d.ToArray(); };
        runner.MmioRead = (a, n) => { readAddress = a; readLength = n; return 0x71; };
        runner.ConsoleOutput = b => output.Append(Encoding.Latin1.GetString(b));
        GuestRunResult r = runner.Run();
        Expect(r, GuestStop.Halted);
        if (writeAddress != GuestPrograms.MmioAddress || written is not [0x5a])
        {
            throw new SelfTestFailure($"expected an MMIO write of 0x5a at 0x{GuestPrograms.MmioAddress:x}, saw {(writeAddress is null ? "none" : $"{Convert.ToHexString(written)} at 0x{writeAddress:x}")}");
        }
        if (readAddress != GuestPrograms.MmioAddress + 8 || readLength != 4)
        {
            throw new SelfTestFailure($"expected a 4-byte MMIO read at 0x{GuestPrograms.MmioAddress + 8:x}, saw {(readAddress is null ? "none" : $"{readLength} bytes at 0x{readAddress:x}")}");
        }
        ExpectOutput(output.ToString(), "q");
        return $"write 1 byte at 0x{writeAddress:x}, read 4 bytes at 0x{readAddress:x}, guest saw the value kscope supplied";
    }

    private static string TripleFault(KvmSystem kvm)
    {
        using FlatGuest guest = FlatGuest.Create(kvm, GuestPrograms.TripleFault, GuestMode.Long);
        GuestRunResult r = guest.CreateRunner().Run();
        Expect(r, GuestStop.Shutdown);
        return "ud2 with an empty IDT ended in KVM_EXIT_SHUTDOWN";
    }

    private static string Kick(KvmSystem kvm)
    {
        using FlatGuest guest = FlatGuest.Create(kvm, GuestPrograms.Forever, GuestMode.Long);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));
        GuestRunResult r = guest.CreateRunner().Run(cts.Token);
        Expect(r, GuestStop.Cancelled);
        return $"a spinning guest left KVM_RUN with EINTR after {r.Elapsed.TotalMilliseconds:0} ms (signal {KickSignal.Number})";
    }

    private static (GuestRunResult Result, string Output) RunCapturing(FlatGuest guest)
    {
        var output = new StringBuilder();
        GuestRunner runner = guest.CreateRunner();
        runner.ConsoleOutput = b => output.Append(Encoding.Latin1.GetString(b));
        runner.MaxExits = 1000;
        return (runner.Run(), output.ToString());
    }

    private static void Expect(GuestRunResult r, GuestStop expected)
    {
        if (r.Stop != expected)
        {
            throw new SelfTestFailure($"expected {expected}, the guest stopped with {r.Stop}: last exit {r.LastExit} at rip 0x{r.FinalRip:x}");
        }
    }

    private static void ExpectOutput(string actual, string expected)
    {
        if (actual != expected)
        {
            throw new SelfTestFailure($"console output '{Escape(actual)}', expected '{Escape(expected)}'");
        }

        static string Escape(string s) => s.Replace("\n", "\\n", StringComparison.Ordinal);
    }

    private sealed class SelfTestFailure(string message) : Exception(message);
}
