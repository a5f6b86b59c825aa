namespace Kscope.Kernel.Kvm;

/// <summary>Why <see cref="GuestRunner.Run"/> stopped.</summary>
public enum GuestStop
{
    /// <summary>HLT with no in-kernel irqchip: the guest said it is done.</summary>
    Halted,

    /// <summary>KVM_EXIT_SHUTDOWN: a triple fault (or a shutdown request the CPU turned into one).</summary>
    Shutdown,

    /// <summary>KVM_EXIT_FAIL_ENTRY: the hardware refused the guest state (a bad segment, CR or MSR).</summary>
    FailEntry,

    /// <summary>KVM_EXIT_INTERNAL_ERROR: KVM could not emulate or deliver something.</summary>
    InternalError,

    /// <summary>KVM_EXIT_SYSTEM_EVENT: shutdown, reset or crash requested through a paravirtual path.</summary>
    SystemEvent,

    /// <summary>Another exit kscope does not handle (it is in <see cref="GuestRunResult.LastExit"/>).</summary>
    UnhandledExit,

    /// <summary>The exit budget (--max-exits) ran out.</summary>
    MaxExits,

    /// <summary>Cancelled (Ctrl-C, or the caller's token): the vCPU was kicked out of KVM_RUN.</summary>
    Cancelled,
}
