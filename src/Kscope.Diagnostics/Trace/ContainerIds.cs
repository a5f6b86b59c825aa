namespace Kscope.Diagnostics.Trace;

/// <summary>
/// Container ids as container runtimes put them in cgroup paths: 64 lowercase hex digits, alone as a
/// directory name (Docker and containerd with the cgroupfs driver: <c>/docker/ID</c>,
/// <c>/kubepods/burstable/podUID/ID</c>) or inside a systemd scope name (<c>docker-ID.scope</c>,
/// <c>cri-containerd-ID.scope</c>, <c>crio-ID.scope</c>, <c>libpod-ID.scope</c>, also with a
/// <c>conmon</c> or <c>libpod-conmon-</c> prefix). Users give the whole id or a prefix: <c>docker ps</c> and
/// <c>crictl ps</c> print 12 or 13 digits; Kubernetes prints <c>containerd://ID</c>.
/// </summary>
public static class ContainerIds
{
    /// <summary>The digits a prefix must have at least: what `docker ps` prints, unique in practice.</summary>
    public const int MinimumPrefix = 12;

    public const int Length = 64;

    /// <summary>The container id a cgroup path names (the deepest component that holds one), or null.</summary>
    public static string? In(string cgroupPath)
    {
        string? found = null;
        foreach (string component in cgroupPath.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (FromComponent(component) is string id)
            {
                found = id;
            }
        }
        return found;
    }

    /// <summary>
    /// What the user typed, as the hex digits to match: lowercase, without a runtime scheme
    /// (<c>docker://</c>, <c>containerd://</c>, <c>cri-o://</c>); null when it is not 1..64 hex digits.
    /// </summary>
    public static string? Normalize(string given)
    {
        string text = given.Trim().ToLowerInvariant();
        int scheme = text.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0)
        {
            text = text[(scheme + 3)..];
        }
        return text.Length is > 0 and <= Length && IsHex(text) ? text : null;
    }

    private static string? FromComponent(string component)
    {
        string name = component.EndsWith(".scope", StringComparison.Ordinal) ? component[..^".scope".Length] : component;
        if (name.Length < Length)
        {
            return null;
        }
        // "ID" or "<runtime>-ID" (docker-, cri-containerd-, crio-, libpod-, libpod-conmon-, crio-conmon-)
        string tail = name[^Length..];
        if (!IsHex(tail) || (name.Length > Length && name[^(Length + 1)] != '-'))
        {
            return null;
        }
        return tail;
    }

    private static bool IsHex(string text)
    {
        foreach (char c in text)
        {
            if (c is not ((>= '0' and <= '9') or (>= 'a' and <= 'f')))
            {
                return false;
            }
        }
        return true;
    }
}
