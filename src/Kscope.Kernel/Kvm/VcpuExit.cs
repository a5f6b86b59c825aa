using Kscope.Native.Kvm;

namespace Kscope.Kernel.Kvm;

/// <summary>
/// One return from KVM_RUN, decoded from kvm_run. <see cref="Interrupted"/> is not a kernel exit reason: KVM_RUN
/// returned EINTR (a signal or immediate_exit) and the vCPU can simply be run again.
/// </summary>
public readonly record struct VcpuExit
{
    public KvmExitReason Reason { get; init; }

    /// <summary>KVM_RUN returned EINTR (kvm_run.exit_reason is then KVM_EXIT_INTR).</summary>
    public bool Interrupted { get; init; }

    /// <summary>IO: true for OUT (guest to host).</summary>
    public bool IoOut { get; init; }

    public ushort IoPort { get; init; }

    /// <summary>IO: bytes per access (1, 2 or 4).</summary>
    public byte IoSize { get; init; }

    /// <summary>IO: accesses (greater than 1 for REP INS/OUTS).</summary>
    public uint IoCount { get; init; }

    public ulong MmioAddress { get; init; }

    public uint MmioLength { get; init; }

    public bool MmioWrite { get; init; }

    /// <summary>FAIL_ENTRY: hardware_entry_failure_reason; UNKNOWN: hardware_exit_reason.</summary>
    public ulong HardwareReason { get; init; }

    /// <summary>INTERNAL_ERROR: suberror (1 emulation, 2 simultaneous exceptions, 3 delivery event, 4 unexpected exit).</summary>
    public uint Suberror { get; init; }

    /// <summary>SYSTEM_EVENT: type (1 shutdown, 2 reset, 3 crash…).</summary>
    public uint SystemEventType { get; init; }

    /// <summary>INTERNAL_ERROR / SYSTEM_EVENT: the first data words the kernel supplied.</summary>
    public ulong[] Data { get; init; }

    /// <summary>A one-line description, e.g. "IO out port 0x3f8 size 1" or "FAIL_ENTRY hardware reason 0x80000021".</summary>
    public override string ToString()
    {
        if (Interrupted)
        {
            return "INTR (KVM_RUN returned EINTR)";
        }
        string data = Data is { Length: > 0 } ? " data " + string.Join(' ', Data.Select(d => $"0x{d:x}")) : "";
        return Reason switch
        {
            KvmExitReason.Io => $"IO {(IoOut ? "out" : "in")} port 0x{IoPort:x} size {IoSize} count {IoCount}",
            KvmExitReason.Mmio => $"MMIO {(MmioWrite ? "write" : "read")} 0x{MmioAddress:x} length {MmioLength}",
            KvmExitReason.FailEntry => $"FAIL_ENTRY hardware entry failure reason 0x{HardwareReason:x}",
            KvmExitReason.Unknown => $"UNKNOWN hardware exit reason 0x{HardwareReason:x}",
            KvmExitReason.InternalError => $"INTERNAL_ERROR suberror {Suberror} ({SuberrorName(Suberror)}){data}",
            KvmExitReason.SystemEvent => $"SYSTEM_EVENT type {SystemEventType} ({SystemEventName(SystemEventType)}){data}",
            _ => Name(Reason),
        };
    }

    /// <summary>The kernel's spelling without the KVM_EXIT_ prefix: "HLT", "SHUTDOWN", "INTERNAL_ERROR".</summary>
    public static string Name(KvmExitReason reason) => reason switch
    {
        KvmExitReason.Io => "IO",
        KvmExitReason.Mmio => "MMIO",
        KvmExitReason.Hlt => "HLT",
        KvmExitReason.Shutdown => "SHUTDOWN",
        KvmExitReason.FailEntry => "FAIL_ENTRY",
        KvmExitReason.InternalError => "INTERNAL_ERROR",
        KvmExitReason.SystemEvent => "SYSTEM_EVENT",
        KvmExitReason.Intr => "INTR",
        KvmExitReason.Unknown => "UNKNOWN",
        KvmExitReason.Exception => "EXCEPTION",
        KvmExitReason.Debug => "DEBUG",
        KvmExitReason.IrqWindowOpen => "IRQ_WINDOW_OPEN",
        _ => Enum.IsDefined(reason) ? reason.ToString().ToUpperInvariant() : $"EXIT_{(uint)reason}",
    };

    private static string SuberrorName(uint suberror) => suberror switch
    {
        1 => "emulation failed",
        2 => "simultaneous exceptions",
        3 => "event delivery failed",
        4 => "unexpected exit reason",
        _ => "unknown",
    };

    private static string SystemEventName(uint type) => type switch
    {
        1 => "shutdown",
        2 => "reset",
        3 => "crash",
        4 => "wakeup",
        5 => "suspend",
        6 => "SEV termination",
        _ => "unknown",
    };
}
