namespace Kscope.Kernel.Host;

/// <summary>Linux capabilities by number (include/uapi/linux/capability.h).</summary>
public static class Capability
{
    private static readonly string[] s_names =
    [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
        "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
        "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
        "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
        "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
        "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
        "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
    ];

    public const int SysPtrace = 19;
    public const int SysAdmin = 21;
    public const int SysResource = 24;
    public const int IpcLock = 14;
    public const int Perfmon = 38;
    public const int Bpf = 39;

    /// <summary>The highest capability this table names; higher bits print as "cap_N".</summary>
    public static int Last => s_names.Length - 1;

    public static string Name(int number) => (uint)number < (uint)s_names.Length ? s_names[number] : $"cap_{number}";

    public static int? Number(string name)
    {
        int i = Array.IndexOf(s_names, name.ToUpperInvariant());
        return i < 0 ? null : i;
    }

    public static IReadOnlyList<string> Decode(ulong mask)
    {
        var names = new List<string>();
        for (int bit = 0; bit < 64; bit++)
        {
            if ((mask & (1UL << bit)) != 0)
            {
                names.Add(Name(bit));
            }
        }
        return names;
    }

    public static bool Has(ulong mask, int capability) => (mask & (1UL << capability)) != 0;
}
