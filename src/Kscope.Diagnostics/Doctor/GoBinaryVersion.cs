using System.Text;

namespace Kscope.Diagnostics.Doctor;

/// <summary>
/// The Go version an executable was built with, from its build info blob (runtime/debug: 16-byte-aligned
/// "\xff Go buildinf:", pointer size, flags; Go 1.18+ sets flag 2 and stores the version inline at +32
/// as a varint-prefixed string). Streams the file so big binaries cost no memory.
/// TODO: use Kscope.Formats.Go build info (issue 6) once it lands.
/// </summary>
public static class GoBinaryVersion
{
    private static readonly byte[] s_magic = [0xff, .. " Go buildinf:"u8];
    private const int ChunkSize = 1 << 20;
    private const long MaxScan = 512L << 20;

    /// <summary>"go1.22.5"; "go1.17 or older" for pre-1.18 binaries (version not inline); null when not a Go binary or unreadable.</summary>
    public static string? Read(string path)
    {
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.SequentialScan);
            var buffer = new byte[ChunkSize + 64];
            long position = 0;
            int carry = 0;
            while (position < MaxScan)
            {
                int read = file.Read(buffer, carry, ChunkSize);
                if (read <= 0)
                {
                    return null;
                }
                int length = carry + read;
                int at = buffer.AsSpan(0, length).IndexOf(s_magic);
                if (at >= 0)
                {
                    file.Position = position - carry + at;
                    var header = new byte[32 + 10 + 64];
                    int got = file.ReadAtLeast(header, 32, throwOnEndOfStream: false);
                    return got < 32 ? null : Parse(header.AsSpan(0, got));
                }
                // keep the tail so a magic straddling two chunks is found
                carry = Math.Min(length, s_magic.Length - 1);
                buffer.AsSpan(length - carry, carry).CopyTo(buffer);
                position += read;
            }
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Parses the build info header (at least 32 bytes starting at the magic).</summary>
    public static string? Parse(ReadOnlySpan<byte> header)
    {
        if (header.Length < 32 || !header.StartsWith(s_magic))
        {
            return null;
        }
        byte flags = header[15];
        if ((flags & 2) == 0)
        {
            return "go1.17 or older";
        }
        ReadOnlySpan<byte> rest = header[32..];
        ulong length = 0;
        int shift = 0, i = 0;
        while (i < rest.Length && i < 10)
        {
            byte b = rest[i++];
            length |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0)
            {
                break;
            }
            shift += 7;
        }
        if (length == 0 || length > 64 || (ulong)(rest.Length - i) < length)
        {
            return null;
        }
        string version = Encoding.UTF8.GetString(rest.Slice(i, (int)length));
        return version.StartsWith("go", StringComparison.Ordinal) ? version : null;
    }

    /// <summary>(major, minor) of "go1.22.5" / "go1.25rc1"; null when unparseable.</summary>
    public static (int Major, int Minor)? Numbers(string? version)
    {
        if (version is null || !version.StartsWith("go", StringComparison.Ordinal))
        {
            return null;
        }
        string[] parts = version[2..].Split('.', ' ');
        if (parts.Length < 2 || !int.TryParse(parts[0], out int major))
        {
            return null;
        }
        string minorText = new(parts[1].TakeWhile(char.IsAsciiDigit).ToArray());
        return int.TryParse(minorText, out int minor) ? (major, minor) : null;
    }
}
