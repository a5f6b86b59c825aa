using Kscope.Native;

namespace Kscope.Diagnostics.Trace;

/// <summary>Where tracefs is (mounting it at /sys/kernel/tracing when it is not), and which events it lists.</summary>
public static class Tracefs
{
    private static string? s_root;

    /// <summary>The tracefs root, mounting it when needed (needs root); null when unavailable.</summary>
    public static string? Root()
    {
        if (s_root is not null)
        {
            return s_root;
        }
        foreach (string dir in (string[])["/sys/kernel/tracing", "/sys/kernel/debug/tracing"])
        {
            if (Directory.Exists(Path.Combine(dir, "events")))
            {
                return s_root = dir;
            }
        }
        try
        {
            Posix.Mount("nodev", "/sys/kernel/tracing", "tracefs");
            return Directory.Exists("/sys/kernel/tracing/events") ? s_root = "/sys/kernel/tracing" : null;
        }
        catch (KernelException)
        {
            return null;
        }
    }

    /// <summary>"category/name" exists; null when tracefs is unavailable.</summary>
    public static bool? EventExists(string categoryAndName) =>
        Root() is string root ? File.Exists(Path.Combine(root, "events", categoryAndName, "id")) : null;

    /// <summary>An event with this bare name exists in any category (raw tracepoint names).</summary>
    public static bool? AnyEventNamed(string name)
    {
        if (Root() is not string root)
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
