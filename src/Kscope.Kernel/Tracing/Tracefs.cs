using Kscope.Native;

namespace Kscope.Kernel.Tracing;

/// <summary>
/// tracefs: where tracepoint ids and formats live. Uses /sys/kernel/tracing, falling back to
/// /sys/kernel/debug/tracing, and mounts tracefs on /sys/kernel/tracing when neither is there.
/// <see cref="Root"/> throws when that fails (a caller about to attach needs it); the questions
/// (<see cref="TryRoot"/>, <see cref="EventExists"/>) answer null instead (trace --list, doctor).
/// </summary>
public static class Tracefs
{
    private static readonly Lock s_gate = new();
    private static string? s_root;

    /// <summary>The tracefs root, mounting it when needed; a <see cref="KernelException"/> when it cannot be mounted.</summary>
    public static string Root
    {
        get
        {
            lock (s_gate)
            {
                if (s_root is not null)
                {
                    return s_root;
                }
                if (Find() is string found)
                {
                    return s_root = found;
                }
                Posix.Mount("nodev", "/sys/kernel/tracing", "tracefs");
                return s_root = Find() ?? throw new KernelException("mount tracefs", Errno.ENOENT, "mounted tracefs on /sys/kernel/tracing but it has no events directory");
            }
        }
    }

    /// <summary>The tracefs root, mounting it when needed; null when unavailable (not root, no tracefs).</summary>
    public static string? TryRoot()
    {
        try
        {
            return Root;
        }
        catch (KernelException)
        {
            return null;
        }
    }

    private static string? Find()
    {
        foreach (string candidate in (string[])["/sys/kernel/tracing", "/sys/kernel/debug/tracing"])
        {
            if (Directory.Exists(Path.Combine(candidate, "events")))
            {
                return candidate;
            }
        }
        return null;
    }

    /// <summary>The perf event id of tracepoint <paramref name="category"/>:<paramref name="name"/> (events/&lt;category&gt;/&lt;name&gt;/id).</summary>
    public static ulong TracepointId(string category, string name)
    {
        if (category.Contains('/') || category.Contains("..") || name.Contains('/') || name.Contains(".."))
        {
            throw new ArgumentException($"invalid tracepoint '{category}:{name}'");
        }
        string path = Path.Combine(Root, "events", category, name, "id");
        try
        {
            return ulong.Parse(File.ReadAllText(path).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new KernelException($"tracepoint '{category}:{name}'", Errno.ENOENT, $"no such tracepoint in this kernel ({path})");
        }
    }

    /// <summary>The format file of a tracepoint (field layout of its context).</summary>
    public static string TracepointFormat(string category, string name) =>
        File.ReadAllText(Path.Combine(Root, "events", category, name, "format"));

    /// <summary>Event "category/name" exists; null when tracefs is unavailable.</summary>
    public static bool? EventExists(string categoryAndName) =>
        TryRoot() is string root ? File.Exists(Path.Combine(root, "events", categoryAndName, "id")) : null;

    /// <summary>An event with this bare name exists in any category (raw tracepoint names); null when tracefs is unavailable.</summary>
    public static bool? AnyEventNamed(string name)
    {
        if (TryRoot() is not string root)
        {
            return null;
        }
        foreach (string category in Directory.EnumerateDirectories(Path.Combine(root, "events")))
        {
            if (File.Exists(Path.Combine(category, name, "id")))
            {
                return true;
            }
        }
        return false;
    }
}
