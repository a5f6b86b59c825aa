namespace Kscope.Diagnostics.Trace.Gadgets.Open;

/// <summary>open(2) flags as text ("O_WRONLY|O_CREAT|O_CLOEXEC"), x86_64/arm64 generic values.</summary>
public static class OpenFlagNames
{
    private static readonly (ulong Bit, string Name)[] s_bits =
    [
        (0x40, "O_CREAT"), (0x80, "O_EXCL"), (0x100, "O_NOCTTY"), (0x200, "O_TRUNC"), (0x400, "O_APPEND"),
        (0x800, "O_NONBLOCK"), (0x1000, "O_DSYNC"), (0x2000, "O_ASYNC"), (0x4000, "O_DIRECT"), (0x8000, "O_LARGEFILE"),
        (0x10000, "O_DIRECTORY"), (0x20000, "O_NOFOLLOW"), (0x40000, "O_NOATIME"), (0x80000, "O_CLOEXEC"),
        (0x100000, "__O_SYNC"), (0x200000, "O_PATH"), (0x400000, "__O_TMPFILE"),
    ];

    public static string Describe(ulong flags)
    {
        var parts = new List<string> { (flags & 3) switch { 0 => "O_RDONLY", 1 => "O_WRONLY", 2 => "O_RDWR", _ => "O_ACCMODE" } };
        ulong known = 3;
        foreach ((ulong bit, string name) in s_bits)
        {
            known |= bit;
            if ((flags & bit) != 0)
            {
                parts.Add(name);
            }
        }
        if ((flags & ~known) != 0)
        {
            parts.Add($"0x{flags & ~known:x}");
        }
        return string.Join('|', parts);
    }
}
