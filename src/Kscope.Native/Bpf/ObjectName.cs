namespace Kscope.Native.Bpf;

/// <summary>The kernel's BPF_OBJ_NAME_LEN (16) names: at most 15 characters of [A-Za-z0-9_.], NUL-terminated.</summary>
public static class ObjectName
{
    public const int Length = 16;

    /// <summary>Writes a sanitized, truncated, NUL-terminated copy of <paramref name="name"/> into <paramref name="destination"/>.</summary>
    public static void Write(ReadOnlySpan<char> name, Span<byte> destination)
    {
        destination.Clear();
        int n = Math.Min(name.Length, destination.Length - 1);
        for (int i = 0; i < n; i++)
        {
            char c = name[i];
            destination[i] = char.IsAsciiLetterOrDigit(c) || c is '_' or '.' ? (byte)c : (byte)'_';
        }
    }

    /// <summary>Reads a NUL-terminated name.</summary>
    public static string Read(ReadOnlySpan<byte> source)
    {
        int end = source.IndexOf((byte)0);
        return System.Text.Encoding.ASCII.GetString(end < 0 ? source : source[..end]);
    }
}
