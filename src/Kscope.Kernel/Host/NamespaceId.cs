using System.Globalization;

namespace Kscope.Kernel.Host;

/// <summary>A namespace of a process: its type (net, pid, mnt…) and the inode that identifies it.</summary>
public readonly record struct NamespaceId(string Type, ulong Inode)
{
    /// <summary>Parses a /proc/PID/ns/NAME link target such as "net:[4026531833]".</summary>
    public static bool TryParse(string name, string target, out NamespaceId id)
    {
        id = default;
        int open = target.IndexOf(":[", StringComparison.Ordinal);
        if (open <= 0 || !target.EndsWith(']') ||
            !ulong.TryParse(target.AsSpan(open + 2, target.Length - open - 3), NumberStyles.None, CultureInfo.InvariantCulture, out ulong inode))
        {
            return false;
        }
        id = new NamespaceId(name, inode);
        return true;
    }
}
