using System.Text;

namespace Kscope.Formats.Http;

/// <summary>
/// One HTTP/1.x response read whole from a connection the server closed (kscope asks with <c>Connection: close</c>):
/// status line, headers, and a body framed by <c>Content-Length</c>, by <c>Transfer-Encoding: chunked</c> (what Go's
/// net/http sends for a body it streams) or by the end of the connection. Anything else is a
/// <see cref="MalformedDataException"/> naming the byte offset. This is all kscope needs to read a net/http/pprof
/// endpoint; it replaces HttpClient, whose TLS and HTTP/2/3 stacks were a quarter of the binary (docs/performance.md).
/// </summary>
public sealed class HttpResponse
{
    private const string Format = "HTTP response";

    /// <summary>At most this many bytes of status line and headers.</summary>
    public const int MaxHeaderBytes = 64 << 10;

    public int StatusCode { get; }

    public string ReasonPhrase { get; }

    public byte[] Body { get; }

    public bool IsSuccessStatusCode => StatusCode is >= 200 and <= 299;

    private HttpResponse(int status, string reason, byte[] body)
    {
        StatusCode = status;
        ReasonPhrase = reason;
        Body = body;
    }

    /// <summary>Parses <paramref name="data"/>, all the bytes the server sent before it closed the connection.</summary>
    public static HttpResponse Parse(ReadOnlySpan<byte> data)
    {
        int headerEnd = data[..Math.Min(data.Length, MaxHeaderBytes)].IndexOf("\r\n\r\n"u8);
        if (headerEnd < 0)
        {
            throw new MalformedDataException(Format, Math.Min(data.Length, MaxHeaderBytes),
                data.Length >= MaxHeaderBytes ? $"no end of headers in the first {MaxHeaderBytes} bytes" : "the connection closed before the end of the headers");
        }
        int lineEnd = data.IndexOf("\r\n"u8);
        (int status, string reason) = StatusLine(data[..lineEnd]);
        long? length = null;
        bool chunked = false;
        int pos = lineEnd + 2;
        while (pos < headerEnd)
        {
            int end = pos + data[pos..].IndexOf("\r\n"u8);
            ReadOnlySpan<byte> line = data[pos..end];
            int colon = line.IndexOf((byte)':');
            if (colon <= 0)
            {
                throw new MalformedDataException(Format, pos, "a header line without 'name:'");
            }
            string name = Ascii(line[..colon], pos).Trim();
            string value = Ascii(line[(colon + 1)..], pos + colon + 1).Trim();
            if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                if (!long.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long n) || (length is { } l && l != n))
                {
                    throw new MalformedDataException(Format, pos, $"bad Content-Length '{value}'");
                }
                length = n;
            }
            else if (name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
            {
                if (!value.Equals("chunked", StringComparison.OrdinalIgnoreCase))
                {
                    throw new MalformedDataException(Format, pos, $"unsupported Transfer-Encoding '{value}'");
                }
                chunked = true;
            }
            pos = end + 2;
        }
        int bodyStart = headerEnd + 4;
        ReadOnlySpan<byte> rest = data[bodyStart..];
        byte[] body;
        if (chunked)
        {
            body = Dechunk(rest, bodyStart);
        }
        else if (length is { } n)
        {
            if (rest.Length < n)
            {
                throw new MalformedDataException(Format, data.Length, $"the connection closed after {rest.Length} of the {n} body bytes Content-Length announced");
            }
            body = rest[..(int)n].ToArray();
        }
        else
        {
            body = rest.ToArray();
        }
        return new HttpResponse(status, reason, body);
    }

    private static (int, string) StatusLine(ReadOnlySpan<byte> line)
    {
        // HTTP/1.1 200 OK
        if (line.Length < 12 || !line.StartsWith("HTTP/1."u8) || line[8] != (byte)' ' || line[9..12].ContainsAnyExceptInRange((byte)'0', (byte)'9') ||
            (line.Length > 12 && line[12] != (byte)' '))
        {
            throw new MalformedDataException(Format, 0, $"not an HTTP/1.x status line: '{PrintableText.Escape(Encoding.Latin1.GetString(line[..Math.Min(line.Length, 40)]))}'");
        }
        int status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
        return (status, line.Length > 13 ? Ascii(line[13..], 13) : "");
    }

    private static byte[] Dechunk(ReadOnlySpan<byte> data, int origin)
    {
        var body = new MemoryStream();
        int pos = 0;
        while (true)
        {
            int lineLength = data[pos..].IndexOf("\r\n"u8);
            if (lineLength < 0)
            {
                throw new MalformedDataException(Format, origin + data.Length, "the connection closed inside a chunk size line");
            }
            ReadOnlySpan<byte> sizeText = data.Slice(pos, lineLength);
            int semicolon = sizeText.IndexOf((byte)';'); // chunk extensions are ignored
            if (semicolon >= 0)
            {
                sizeText = sizeText[..semicolon];
            }
            if (sizeText.IsEmpty || sizeText.Length > 8 ||
                !int.TryParse(Ascii(sizeText, origin + pos).Trim(), System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out int size) || size < 0)
            {
                throw new MalformedDataException(Format, origin + pos, "bad chunk size");
            }
            pos += lineLength + 2;
            if (size == 0)
            {
                return body.ToArray(); // trailers, if any, are not needed
            }
            if (data.Length - pos < (long)size + 2)
            {
                throw new MalformedDataException(Format, origin + data.Length, $"the connection closed inside a chunk of {size} bytes");
            }
            body.Write(data.Slice(pos, size));
            pos += size;
            if (!data[pos..].StartsWith("\r\n"u8))
            {
                throw new MalformedDataException(Format, origin + pos, "no CRLF after a chunk");
            }
            pos += 2;
        }
    }

    private static string Ascii(ReadOnlySpan<byte> bytes, int offset)
    {
        foreach (byte b in bytes)
        {
            if (b is < 0x20 and not (byte)'\t' or >= 0x7f)
            {
                throw new MalformedDataException(Format, offset, "a control or non-ASCII byte in the status line or a header");
            }
        }
        return Encoding.ASCII.GetString(bytes);
    }
}
