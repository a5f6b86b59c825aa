namespace Kscope.Formats.Procfs;

/// <summary>/proc/PID/cmdline and /proc/PID/environ: strings separated (and usually terminated) by NUL.</summary>
public static class NulSeparated
{
    public static IReadOnlyList<string> Split(ReadOnlySpan<byte> data)
    {
        var parts = new List<string>();
        while (!data.IsEmpty)
        {
            int nul = data.IndexOf((byte)0);
            ReadOnlySpan<byte> item = nul < 0 ? data : data[..nul];
            parts.Add(System.Text.Encoding.UTF8.GetString(item));
            data = nul < 0 ? [] : data[(nul + 1)..];
        }
        return parts;
    }

    /// <summary>
    /// environ as NAME -> value (the first '=' separates; the first definition of a name wins, as getenv
    /// does). A process may have written anything there: entries without '=' map to "".
    /// </summary>
    public static IReadOnlyDictionary<string, string> Environment(ReadOnlySpan<byte> data)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string entry in Split(data))
        {
            int eq = entry.IndexOf('=');
            string name = eq < 0 ? entry : entry[..eq];
            if (name.Length > 0)
            {
                env.TryAdd(name, eq < 0 ? "" : entry[(eq + 1)..]);
            }
        }
        return env;
    }
}
