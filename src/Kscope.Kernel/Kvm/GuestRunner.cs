using System.Diagnostics;
using Kscope.Native.Kvm;

namespace Kscope.Kernel.Kvm;

/// <summary>
/// A tiny device model and run loop over one <see cref="Vcpu"/>: OUT to the console ports (0x3f8, COM1's data
/// register, and 0xe9, the Bochs/QEMU debug port) goes to <see cref="ConsoleOutput"/>; IN from COM1's line
/// status register (0x3fd) reads "transmitter empty" so polling guests work; other IN ports read 0xff; MMIO
/// goes to <see cref="MmioRead"/>/<see cref="MmioWrite"/> (reads default to zero). The loop resumes after
/// EINTR unless cancelled, and stops on HLT, SHUTDOWN, FAIL_ENTRY, INTERNAL_ERROR, SYSTEM_EVENT, an exit it
/// does not handle, or the exit budget.
/// </summary>
public sealed class GuestRunner
{
    public const ushort SerialPort = 0x3f8;
    public const ushort SerialLineStatusPort = 0x3fd;
    public const ushort DebugPort = 0xe9;

    private readonly Vcpu _vcpu;

    public GuestRunner(Vcpu vcpu) => _vcpu = vcpu;

    /// <summary>Bytes the guest wrote to 0x3f8 or 0xe9.</summary>
    public Action<ReadOnlySpan<byte>>? ConsoleOutput { get; set; }

    /// <summary>A guest read of MMIO (address, length): the value to return (little-endian, truncated to length).</summary>
    public Func<ulong, int, ulong>? MmioRead { get; set; }

    /// <summary>A guest write to MMIO (address, bytes).</summary>
    public Action<ulong, ReadOnlySpan<byte>>? MmioWrite { get; set; }

    /// <summary>OUT to any other port (port, bytes).</summary>
    public Action<ushort, ReadOnlySpan<byte>>? PortWrite { get; set; }

    /// <summary>Stop after this many exits (EINTR returns not counted).</summary>
    public long MaxExits { get; set; } = 1_000_000;

    public GuestRunResult Run(CancellationToken cancellationToken = default)
    {
        // Per-exit counting without hashing: KVM's exit reasons are small numbers (below 64 in 6.x kernels).
        Span<long> byReason = stackalloc long[64];
        var counts = new Dictionary<KvmExitReason, long>();
        long total = 0;
        long interrupts = 0;
        long consoleBytes = 0;
        var clock = Stopwatch.StartNew();
        VcpuExit exit = default;
        GuestStop stop;
        using (cancellationToken.Register(static v => ((Vcpu)v!).Kick(), _vcpu))
        {
            while (true)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    stop = GuestStop.Cancelled;
                    break;
                }
                if (total >= MaxExits)
                {
                    stop = GuestStop.MaxExits;
                    break;
                }
                exit = _vcpu.Run();
                if (exit.Interrupted)
                {
                    interrupts++;
                    continue; // the loop head checks cancellation; otherwise resume the guest
                }
                total++;
                if ((uint)exit.Reason < (uint)byReason.Length)
                {
                    byReason[(int)exit.Reason]++;
                }
                else
                {
                    counts[exit.Reason] = counts.GetValueOrDefault(exit.Reason) + 1;
                }
                GuestStop? end = exit.Reason switch
                {
                    KvmExitReason.Io => HandleIo(in exit, ref consoleBytes),
                    KvmExitReason.Mmio => HandleMmio(in exit),
                    KvmExitReason.Hlt => GuestStop.Halted,
                    KvmExitReason.Shutdown => GuestStop.Shutdown,
                    KvmExitReason.FailEntry => GuestStop.FailEntry,
                    KvmExitReason.InternalError => GuestStop.InternalError,
                    KvmExitReason.SystemEvent => GuestStop.SystemEvent,
                    KvmExitReason.IrqWindowOpen or KvmExitReason.Intr => null,
                    _ => GuestStop.UnhandledExit,
                };
                if (end is GuestStop s)
                {
                    stop = s;
                    break;
                }
            }
        }
        for (int reason = 0; reason < byReason.Length; reason++)
        {
            if (byReason[reason] != 0)
            {
                counts[(KvmExitReason)reason] = byReason[reason];
            }
        }
        ulong rip = 0;
        try
        {
            rip = _vcpu.GetRegisters().Rip;
        }
        catch (Native.KernelException)
        {
            // registers are diagnostics only; a vCPU in a failed state may refuse KVM_GET_REGS
        }
        return new GuestRunResult(stop, exit, counts, total, interrupts, consoleBytes, clock.Elapsed, rip);
    }

    private GuestStop? HandleIo(in VcpuExit exit, ref long consoleBytes)
    {
        Span<byte> data = _vcpu.IoData;
        if (exit.IoOut)
        {
            if (exit.IoPort is SerialPort or DebugPort)
            {
                consoleBytes += data.Length;
                ConsoleOutput?.Invoke(data);
            }
            else
            {
                PortWrite?.Invoke(exit.IoPort, data);
            }
        }
        else
        {
            // LSR: THRE | TEMT (ready to send), nothing received.
            data.Fill(exit.IoPort == SerialLineStatusPort ? (byte)0x60 : (byte)0xff);
        }
        return null;
    }

    private GuestStop? HandleMmio(in VcpuExit exit)
    {
        Span<byte> data = _vcpu.MmioData;
        if (exit.MmioWrite)
        {
            MmioWrite?.Invoke(exit.MmioAddress, data);
        }
        else
        {
            ulong value = MmioRead?.Invoke(exit.MmioAddress, data.Length) ?? 0;
            for (int i = 0; i < data.Length; i++)
            {
                data[i] = (byte)(value >> (8 * i));
            }
        }
        return null;
    }
}
