using Kscope.Native;

namespace Kscope.Kernel.Host;

/// <summary>Linux security modules: which are active, lockdown, SELinux and AppArmor state of a process.</summary>
public static class SecurityModules
{
    /// <summary>
    /// Active LSMs in order from /sys/kernel/security/lsm, mounting securityfs first when needed.
    /// Null (with the reason) when securityfs cannot be mounted.
    /// </summary>
    public static Sourced<IReadOnlyList<string>> Active()
    {
        var (mountPoint, _) = SpecialFilesystems.Ensure(SpecialFilesystems.SecurityFs);
        string file = Path.Combine(mountPoint, "lsm");
        string text = Procfs.ReadText(file);
        return new(text.Trim().Split(',', StringSplitOptions.RemoveEmptyEntries), file);
    }

    /// <summary>Kernel lockdown mode ("none", "integrity", "confidentiality"), the bracketed word of /sys/kernel/security/lockdown; null without the lockdown LSM.</summary>
    public static Sourced<string>? Lockdown()
    {
        var (mountPoint, _) = SpecialFilesystems.Ensure(SpecialFilesystems.SecurityFs);
        string file = Path.Combine(mountPoint, "lockdown");
        string? text = Procfs.TryReadText(file);
        if (text is null)
        {
            return null;
        }
        int open = text.IndexOf('['), close = text.IndexOf(']');
        return open >= 0 && close > open ? new(text[(open + 1)..close], file) : new(text.Trim(), file);
    }

    /// <summary>SELinux: null when selinuxfs is not mounted (SELinux disabled); else "enforcing" or "permissive".</summary>
    public static Sourced<string>? SelinuxMode()
    {
        string? mount = SpecialFilesystems.MountPointOf("selinuxfs");
        if (mount is null)
        {
            return null;
        }
        string file = Path.Combine(mount, "enforce");
        return Procfs.TryReadText(file)?.Trim() switch
        {
            "1" => new("enforcing", file),
            "0" => new("permissive", file),
            _ => null,
        };
    }

    /// <summary>The LSM label of a process (/proc/PID/attr/current, or the per-LSM file); null when no LSM labels processes.</summary>
    public static Sourced<string>? ProcessLabel(int? pid, string? lsm = null)
    {
        string file = lsm is null ? $"{Procfs.Dir(pid)}/attr/current" : $"{Procfs.Dir(pid)}/attr/{lsm}/current";
        try
        {
            string? text = Procfs.TryReadText(file);
            return text is null ? null : new(text.TrimEnd('\0', '\n'), file);
        }
        catch (KernelException e) when (e.Errno is Errno.EINVAL or Errno.EOPNOTSUPP or Errno.ENOENT)
        {
            return null; // no LSM provides a process label
        }
    }
}
