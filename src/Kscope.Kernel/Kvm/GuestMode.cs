namespace Kscope.Kernel.Kvm;

/// <summary>The CPU mode a flat-binary guest starts in.</summary>
public enum GuestMode
{
    /// <summary>16-bit real mode, every segment register zero: a guest linked at its load address runs as linked.</summary>
    Real,

    /// <summary>64-bit long mode, paging on, the first 1 GiB identity-mapped with 2 MiB pages built by kscope.</summary>
    Long,
}
