using System.Text;

namespace Kscope.Formats.Procfs;

/// <summary>
/// One line of /proc/PID/mountinfo (proc(5), fs/proc_namespace.c):
/// <c>36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue</c>.
/// Paths are octal-escaped by the kernel (<c>\040</c> space, <c>\011</c> tab, <c>\012</c> newline, <c>\134</c> backslash).
/// </summary>
public sealed record MountInfoEntry(
    int MountId,
    int ParentId,
    uint Major,
    uint Minor,
    string Root,
    string MountPoint,
    string MountOptions,
    IReadOnlyList<string> OptionalFields,
    string FileSystemType,
    string MountSource,
    string SuperOptions)
{
    private const string Format = "proc mountinfo";

    public static IReadOnlyList<MountInfoEntry> Parse(string text, string source = "/proc/self/mountinfo")
    {
        var entries = new List<MountInfoEntry>();
        foreach (var (line, content) in TextParsing.Lines(text))
        {
            string[] f = content.Split(' ');
            int dash = f.Length > 6 ? Array.IndexOf(f, "-", 6) : -1;
            if (f.Length < 10 || dash < 6 || f.Length < dash + 4)
            {
                throw new MalformedDataException(Format, source, line, $"expected 'id parent major:minor root mountpoint options [optional…] - type source superoptions', got '{TextParsing.Clip(content)}'");
            }
            int colon = f[2].IndexOf(':');
            if (colon <= 0)
            {
                throw new MalformedDataException(Format, source, line, $"device '{TextParsing.Clip(f[2])}' is not major:minor");
            }
            ulong major = TextParsing.U64(Format, source, line, f[2][..colon], "major");
            ulong minor = TextParsing.U64(Format, source, line, f[2][(colon + 1)..], "minor");
            if (major > uint.MaxValue || minor > uint.MaxValue)
            {
                throw new MalformedDataException(Format, source, line, "device number exceeds 32 bits");
            }
            entries.Add(new MountInfoEntry(
                TextParsing.I32(Format, source, line, f[0], "mount id"),
                TextParsing.I32(Format, source, line, f[1], "parent id"),
                (uint)major,
                (uint)minor,
                Unescape(f[3], source, line),
                Unescape(f[4], source, line),
                f[5],
                f[6..dash],
                f[dash + 1],
                Unescape(f[dash + 2], source, line),
                string.Join(' ', f[(dash + 3)..])));
        }
        return entries;
    }

    /// <summary>Undoes the kernel's octal escapes (<c>\040</c>); a backslash not followed by three octal digits is malformed.</summary>
    public static string Unescape(string text, string source, int line)
    {
        int slash = text.IndexOf('\\');
        if (slash < 0)
        {
            return text;
        }
        var sb = new StringBuilder(text.Length);
        var bytes = new List<byte>();
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] != '\\')
            {
                Flush();
                sb.Append(text[i]);
                continue;
            }
            if (i + 3 >= text.Length)
            {
                throw new MalformedDataException(Format, source, line, $"truncated escape in '{TextParsing.Clip(text)}'");
            }
            int value = 0;
            for (int k = 1; k <= 3; k++)
            {
                char c = text[i + k];
                if (c is < '0' or > '7')
                {
                    throw new MalformedDataException(Format, source, line, $"bad octal escape in '{TextParsing.Clip(text)}'");
                }
                value = value * 8 + (c - '0');
            }
            if (value > 255)
            {
                throw new MalformedDataException(Format, source, line, $"octal escape \\{value} out of range");
            }
            bytes.Add((byte)value);
            i += 3;
        }
        Flush();
        return sb.ToString();

        void Flush()
        {
            if (bytes.Count > 0)
            {
                sb.Append(Encoding.UTF8.GetString(bytes.ToArray()));
                bytes.Clear();
            }
        }
    }
}
