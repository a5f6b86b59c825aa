using Kscope.Native;
using System.Net;
using System.Net.Sockets;
using Kscope.Formats;
using Kscope.Formats.Http;
using Kscope.Formats.Pprof;

namespace Kscope.Diagnostics.Pprof;

/// <summary>
/// Where a profile comes from: a local file, or a Go service's net/http/pprof endpoint
/// (<c>http://host:port/debug/pprof/{profile,heap,allocs,goroutine,mutex,block,threadcreate}</c>).
/// "host:port" alone means its CPU profile, as with <c>go tool pprof</c>.
/// </summary>
public static class ProfileSource
{
    /// <summary>The endpoints of Go's net/http/pprof that serve profile.proto.</summary>
    public static readonly string[] Endpoints = ["profile", "heap", "allocs", "goroutine", "mutex", "block", "threadcreate"];

    /// <summary>CPU profile length when none is given.</summary>
    public const int DefaultCpuSeconds = 10;

    public static bool IsUrl(string source) =>
        source.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || source.StartsWith("https://", StringComparison.OrdinalIgnoreCase) ||
        (!File.Exists(source) && System.Text.RegularExpressions.Regex.IsMatch(source, @"^[A-Za-z0-9.\-\[\]:]+:\d+(/.*)?$"));

    /// <summary>
    /// The URL to fetch: adds http://, /debug/pprof/profile for a bare host:port, and seconds=N for
    /// the CPU profile (and for delta profiles when asked).
    /// </summary>
    public static Uri ResolveUrl(string source, int? seconds, string? debug = null)
    {
        string s = source.Contains("://", StringComparison.Ordinal) ? source : "http://" + source;
        if (!Uri.TryCreate(s, UriKind.Absolute, out Uri? uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
        {
            throw new ProfileFetchException($"'{source}' is not an http(s) URL");
        }
        var b = new UriBuilder(uri);
        string path = b.Path.TrimEnd('/');
        if (path.Length == 0)
        {
            path = "/debug/pprof/profile";
        }
        else if (path.EndsWith("/debug/pprof", StringComparison.Ordinal))
        {
            path += "/profile";
        }
        b.Path = path;
        string query = b.Query.TrimStart('?');
        string name = path[(path.LastIndexOf('/') + 1)..];
        if (!query.Contains("seconds=", StringComparison.Ordinal) && (seconds is not null || name == "profile"))
        {
            query = (query.Length > 0 ? query + "&" : "") + $"seconds={seconds ?? DefaultCpuSeconds}";
        }
        if (debug is not null && !query.Contains("debug=", StringComparison.Ordinal))
        {
            query = (query.Length > 0 ? query + "&" : "") + $"debug={debug}";
        }
        b.Query = query;
        return b.Uri;
    }

    /// <summary>The bytes of a file or URL. CPU profiles take <c>seconds</c>, so the timeout adds them.</summary>
    public static async Task<byte[]> ReadBytesAsync(string source, int? seconds, TimeSpan timeout, CancellationToken ct, string? debug = null)
    {
        if (!IsUrl(source))
        {
            if (!File.Exists(source))
            {
                throw new FileNotFoundException($"open {source}: no such file (give a profile file or an http://HOST:PORT/debug/pprof/... URL)", source);
            }
            // A profile file is at most ProfileReader's limit (FIFOs and devices are refused, not read forever).
            return InputFile.ReadAllBytes(source, ProfileReader.MaxUncompressedBytes);
        }
        Uri url = ResolveUrl(source, seconds, debug);
        if (url.Scheme != "http")
        {
            // Go's net/http/pprof is served over plain http (usually on localhost): kscope ships no TLS stack, which
            // kept a quarter of the binary and its start-up out (README, "Ship it"; docs/performance.md).
            throw new ProfileFetchException($"fetch {url}: https is not supported (kscope has no TLS stack): save the profile with " +
                $"'curl -o profile.pb.gz {url}' and give kscope the file, or use the service's http:// endpoint");
        }
        TimeSpan total = timeout + TimeSpan.FromSeconds(url.Query.Contains("seconds=", StringComparison.Ordinal) ? seconds ?? DefaultCpuSeconds : 0);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(total);
        try
        {
            HttpResponse response = HttpResponse.Parse(await HttpGetAsync(url, timeout, cts.Token).ConfigureAwait(false));
            if (!response.IsSuccessStatusCode)
            {
                string text = System.Text.Encoding.UTF8.GetString(response.Body, 0, Math.Min(response.Body.Length, 200)).Trim();
                throw new ProfileFetchException($"fetch {url}: HTTP {response.StatusCode} {response.ReasonPhrase}{(text.Length > 0 ? ": " + text : "")}");
            }
            return response.Body;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new ProfileFetchException($"fetch {url}: timed out after {total.TotalSeconds:0}s (raise --timeout)");
        }
        catch (SocketException e)
        {
            throw new ProfileFetchException($"fetch {url}: {SocketProblem(e)}", e);
        }
        catch (MalformedDataException e)
        {
            throw new ProfileFetchException($"fetch {url}: {e.Message}", e);
        }
    }

    /// <summary>
    /// One HTTP/1.1 GET with <c>Connection: close</c>: the whole response, read until the server closes (at most the
    /// largest profile kscope reads plus its headers). Connecting is bounded by <paramref name="connectTimeout"/>, the
    /// whole exchange by <paramref name="ct"/>.
    /// </summary>
    private static async Task<byte[]> HttpGetAsync(Uri url, TimeSpan connectTimeout, CancellationToken ct)
    {
        using var connecting = CancellationTokenSource.CreateLinkedTokenSource(ct);
        connecting.CancelAfter(connectTimeout);
        IPAddress[] addresses = IPAddress.TryParse(url.IdnHost, out IPAddress? literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(url.IdnHost, connecting.Token).ConfigureAwait(false);
        if (addresses.Length == 0)
        {
            throw new SocketException((int)SocketError.HostNotFound);
        }
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(addresses, url.Port, connecting.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new SocketException((int)SocketError.TimedOut);
        }
        string request = $"GET {url.PathAndQuery} HTTP/1.1\r\nHost: {url.Authority}\r\nUser-Agent: kscope\r\nAccept: */*\r\nConnection: close\r\n\r\n";
        byte[] bytes = System.Text.Encoding.ASCII.GetBytes(request);
        for (int sent = 0; sent < bytes.Length;)
        {
            sent += await socket.SendAsync(bytes.AsMemory(sent), SocketFlags.None, ct).ConfigureAwait(false);
        }
        const int limit = ProfileReader.MaxUncompressedBytes + HttpResponse.MaxHeaderBytes;
        var response = new MemoryStream();
        byte[] buffer = new byte[64 << 10];
        while (true)
        {
            int n = await socket.ReceiveAsync(buffer, SocketFlags.None, ct).ConfigureAwait(false);
            if (n == 0)
            {
                return response.ToArray();
            }
            if (response.Length + n > limit)
            {
                throw new ProfileFetchException($"fetch {url}: the response is larger than {limit >> 20} MiB");
            }
            response.Write(buffer, 0, n);
        }
    }

    private static string SocketProblem(SocketException e) => e.SocketErrorCode switch
    {
        System.Net.Sockets.SocketError.ConnectionRefused => "connection refused (is the service listening on that port, with net/http/pprof imported?)",
        System.Net.Sockets.SocketError.TimedOut => "connecting timed out (raise --timeout)",
        System.Net.Sockets.SocketError.HostNotFound or System.Net.Sockets.SocketError.NoData => "unknown host",
        System.Net.Sockets.SocketError.ConnectionReset => "the service reset the connection",
        System.Net.Sockets.SocketError.NetworkUnreachable or System.Net.Sockets.SocketError.HostUnreachable => "no route to the host",
        var other => $"socket error {other}",
    };

    public static async Task<Profile> LoadAsync(string source, int? seconds, TimeSpan timeout, CancellationToken ct)
    {
        byte[] bytes = await ReadBytesAsync(source, seconds, timeout, ct).ConfigureAwait(false);
        return ProfileReader.Read(bytes);
    }
}
