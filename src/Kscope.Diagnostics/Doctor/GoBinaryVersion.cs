using Kscope.Formats;
using Kscope.Formats.Go;

namespace Kscope.Diagnostics.Doctor;

/// <summary>
/// The Go version an executable was built with. Streams the file to find the build info blob
/// ("\xff Go buildinf:") so big binaries cost no memory, then lets <see cref="GoBuildInfo"/> parse it.
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
                    var header = new byte[64 << 10]; // version and module info follow the 32-byte header
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

    /// <summary>The version from a build info blob starting at the magic; pre-1.18 blobs keep it behind pointers.</summary>
    public static string? Parse(ReadOnlySpan<byte> header)
    {
        if (header.Length < 32 || !header.StartsWith(s_magic))
        {
            return null;
        }
        if ((header[15] & 2) == 0)
        {
            return "go1.17 or older";
        }
        try
        {
            return GoBuildInfo.Parse(header)?.GoVersion;
        }
        catch (MalformedDataException)
        {
            return null;
        }
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
