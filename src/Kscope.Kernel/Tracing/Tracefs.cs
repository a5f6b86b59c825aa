using Kscope.Native;

namespace Kscope.Kernel.Tracing;

/// <summary>
/// tracefs: where tracepoint ids and formats live. Uses /sys/kernel/tracing, falling back to
/// /sys/kernel/debug/tracing, and mounts tracefs on /sys/kernel/tracing when neither is there.
/// </summary>
public static class Tracefs
{
    private static readonly object s_gate = new();
    private static string? s_root;

    /// <summary>The tracefs root, mounting it when needed.</summary>
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
                foreach (string candidate in new[] { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" })
                {
                    if (Directory.Exists(Path.Combine(candidate, "events")))
                    {
                        return s_root = candidate;
                    }
                }
                Posix.Mount("nodev", "/sys/kernel/tracing", "tracefs");
                return s_root = "/sys/kernel/tracing";
            }
        }
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
}
