namespace Kscope.Formats.Procfs;

/// <summary>
/// One line of /proc/PID/maps (proc(5)): <c>start-end perms offset major:minor inode [path]</c>, hex
/// addresses. Path is absent for anonymous mappings and may contain spaces or " (deleted)".
/// </summary>
public sealed record ProcMapsEntry(ulong Start, ulong End, string Permissions, ulong Offset, string Device, ulong Inode, string Path)
{
    private const string Format = "proc maps";

    public bool IsExecutable => Permissions.Length > 2 && Permissions[2] == 'x';

    public static IReadOnlyList<ProcMapsEntry> Parse(string text, string source = "/proc/self/maps")
    {
        var entries = new List<ProcMapsEntry>();
        foreach (var (line, content) in TextParsing.Lines(text))
        {
            // Five fixed fields, then the path after a run of spaces.
            string[] f = content.Split(' ', 6, StringSplitOptions.None);
            if (f.Length < 5)
            {
                throw new MalformedDataException(Format, source, line, $"expected 'start-end perms offset dev inode [path]', got '{TextParsing.Clip(content)}'");
            }
            int dash = f[0].IndexOf('-');
            if (dash <= 0)
            {
                throw new MalformedDataException(Format, source, line, $"address range '{TextParsing.Clip(f[0])}' lacks '-'");
            }
            ulong start = TextParsing.Hex64(Format, source, line, f[0][..dash], "start");
            ulong end = TextParsing.Hex64(Format, source, line, f[0][(dash + 1)..], "end");
            if (end < start)
            {
                throw new MalformedDataException(Format, source, line, $"end 0x{end:x} below start 0x{start:x}");
            }
            if (f[1].Length != 4)
            {
                throw new MalformedDataException(Format, source, line, $"permissions '{TextParsing.Clip(f[1])}' are not 4 characters");
            }
            ulong offset = TextParsing.Hex64(Format, source, line, f[2], "offset");
            if (!f[3].Contains(':'))
            {
                throw new MalformedDataException(Format, source, line, $"device '{TextParsing.Clip(f[3])}' is not major:minor");
            }
            ulong inode = TextParsing.U64(Format, source, line, f[4], "inode");
            string path = f.Length == 6 ? f[5].TrimStart(' ') : "";
            entries.Add(new ProcMapsEntry(start, end, f[1], offset, f[3], inode, path));
        }
        return entries;
    }
}
