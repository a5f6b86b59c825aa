using Kscope.Native.Kvm;

namespace Kscope.Kernel.Kvm;

/// <summary>What a <see cref="GuestRunner"/> run did: why it stopped, the last exit, and counts per exit kind.</summary>
public sealed record GuestRunResult(
    GuestStop Stop,
    VcpuExit LastExit,
    IReadOnlyDictionary<KvmExitReason, long> ExitCounts,
    long TotalExits,
    long Interrupts,
    long ConsoleBytes,
    TimeSpan Elapsed,
    ulong FinalRip)
{
    /// <summary>True for the clean ends: HLT (the guest is done).</summary>
    public bool Succeeded => Stop == GuestStop.Halted;
}
