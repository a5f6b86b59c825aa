namespace Kscope.Kernel.Bpf;

using Kscope.Native;

/// <summary>How to load programs: verifier log level and initial size (it grows on ENOSPC).</summary>
public sealed record ProgramLoadOptions
{
    public static ProgramLoadOptions Default { get; } = new();

    /// <summary>0: log only when loading fails; 1: always keep the log (<see cref="Program.VerifierLog"/>); 2: verbose.</summary>
    public uint LogLevel { get; init; }

    /// <summary>Initial log buffer size in bytes.</summary>
    public uint LogSize { get; init; } = 256 * 1024;

    /// <summary>BTF object of a kernel module holding the attach target (null = vmlinux).</summary>
    public SafeFd? AttachBtfObjFd { get; init; }
}
