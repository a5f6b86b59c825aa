using System.Buffers.Binary;
using System.IO.Compression;

namespace Kscope.Formats.Compression;

/// <summary>
/// The one gunzip for outside bytes (pprof from files and endpoints, /proc/config.gz): single-member gzip
/// (RFC 1952) inflated into one array of the size the trailer states, never past a caller's bound.
/// </summary>
/// <remarks>
/// The trailer's ISIZE (uncompressed length mod 2^32) is read first. It must be at most the bound and at most
/// what deflate can produce from the compressed bytes (1032:1, RFC 1951's longest match per bit), so a lying
/// 20-byte file cannot reserve memory. The output is inflated straight into an array of exactly ISIZE bytes:
/// no doubling buffer, no final copy, peak memory = the result. More output than ISIZE, less, or a bad stream
/// throws <see cref="MalformedDataException"/>.
/// </remarks>
public static class Gzip
{
    /// <summary>Deflate's largest expansion (258-byte matches from 1-bit codes, RFC 1951).</summary>
    public const int MaxRatio = 1032;

    public static bool IsGzip(ReadOnlySpan<byte> data) => data.Length >= 2 && data[0] == 0x1f && data[1] == 0x8b;

    /// <summary>Inflates <paramref name="data"/>; the result is at most <paramref name="maxBytes"/> long.</summary>
    public static byte[] Decompress(ReadOnlySpan<byte> data, int maxBytes, string format)
    {
        if (data.Length < 18 || !IsGzip(data))
        {
            throw new MalformedDataException(format, 0, $"gzip: {(IsGzip(data) ? "truncated" : "bad magic")} ({data.Length} bytes; a gzip member has at least 18)");
        }
        uint size = BinaryPrimitives.ReadUInt32LittleEndian(data[^4..]);
        if (size > (uint)maxBytes)
        {
            throw new MalformedDataException(format, data.Length - 4, $"gzip: uncompressed size {size} bytes is more than the {maxBytes}-byte limit");
        }
        if (size > (ulong)data.Length * MaxRatio)
        {
            throw new MalformedDataException(format, data.Length - 4, $"gzip: trailer claims {size} bytes, more than deflate can make of {data.Length} (corrupt or not one member)");
        }
        byte[] output = new byte[size];
        int length = 0;
        try
        {
            unsafe
            {
                fixed (byte* p = data)
                {
                    using var input = new UnmanagedMemoryStream(p, data.Length);
                    using var gzip = new GZipStream(input, CompressionMode.Decompress);
                    int n;
                    while (length < output.Length && (n = gzip.Read(output, length, output.Length - length)) > 0)
                    {
                        length += n;
                    }
                    Span<byte> probe = stackalloc byte[1];
                    if (length == output.Length && gzip.Read(probe) > 0)
                    {
                        throw new MalformedDataException(format, data.Length - 4, $"gzip: inflates past the {size} bytes its trailer states");
                    }
                }
            }
        }
        catch (InvalidDataException e)
        {
            throw new MalformedDataException(format, 0, $"gzip: {e.Message}");
        }
        catch (EndOfStreamException e)
        {
            throw new MalformedDataException(format, 0, $"gzip: truncated ({e.Message})");
        }
        if (length != output.Length)
        {
            // GZipStream returns what it could decode from a truncated stream without complaint.
            throw new MalformedDataException(format, data.Length, $"gzip: truncated or corrupt ({length} bytes inflated, the trailer states {size})");
        }
        return output;
    }
}
