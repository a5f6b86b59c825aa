namespace Kscope.Kernel.Host;

/// <summary>
/// A mounted cgroup hierarchy: v2 (the unified one) or a v1 hierarchy with its controllers (or a named
/// one such as name=systemd). <see cref="Root"/> is the mount's root inside the hierarchy ("/" unless
/// a cgroup namespace or bind mount shows a subtree).
/// </summary>
public sealed record CgroupHierarchy(int Version, string MountPoint, string Root, IReadOnlyList<string> Controllers, string? Name)
{
    public bool Has(string controller) => Controllers.Contains(controller, StringComparer.Ordinal);

    /// <summary>The directory of a cgroup path (as /proc/PID/cgroup prints it) under this mount; null when outside the mount's root.</summary>
    public string? Directory(string cgroupPath)
    {
        string relative = cgroupPath;
        if (Root != "/")
        {
            if (cgroupPath != Root && !cgroupPath.StartsWith(Root + "/", StringComparison.Ordinal))
            {
                return null;
            }
            relative = cgroupPath[Root.Length..];
        }
        return relative is "" or "/" ? MountPoint : MountPoint.TrimEnd('/') + relative;
    }
}
