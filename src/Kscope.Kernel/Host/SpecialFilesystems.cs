using Kscope.Formats.Procfs;
using Kscope.Native;

namespace Kscope.Kernel.Host;

/// <summary>
/// The kernel's pseudo filesystems kscope needs (tracefs, debugfs, securityfs, bpffs): where they are
/// mounted, and mounting them at their standard place when they are not.
/// </summary>
public static class SpecialFilesystems
{
    public const string TraceFs = "tracefs";
    public const string DebugFs = "debugfs";
    public const string SecurityFs = "securityfs";

    public static string StandardMountPoint(string type) => type switch
    {
        TraceFs => "/sys/kernel/tracing",
        DebugFs => "/sys/kernel/debug",
        SecurityFs => "/sys/kernel/security",
        "bpf" => "/sys/fs/bpf",
        _ => throw new ArgumentException($"unknown filesystem '{type}'", nameof(type)),
    };

    /// <summary>Where this mount namespace has <paramref name="type"/> mounted (first mount), or null.</summary>
    public static string? MountPointOf(string type, IReadOnlyList<MountInfoEntry>? mounts = null) =>
        (mounts ?? Procfs.MountInfo()).FirstOrDefault(m => m.FileSystemType == type)?.MountPoint;

    /// <summary>
    /// Makes sure <paramref name="type"/> is mounted: returns where, and whether this call mounted it.
    /// Throws <see cref="KernelException"/> from mount(2) (EPERM without CAP_SYS_ADMIN, ENODEV when the kernel lacks it).
    /// </summary>
    public static (string MountPoint, bool MountedNow) Ensure(string type)
    {
        if (MountPointOf(type) is string existing)
        {
            return (existing, false);
        }
        string target = StandardMountPoint(type);
        try
        {
            Posix.Mount(type, target, type);
        }
        catch (KernelException e) when (e.Errno == Errno.EBUSY && MountPointOf(type) is string raced)
        {
            return (raced, false); // another process mounted it meanwhile
        }
        return (target, true);
    }
}
