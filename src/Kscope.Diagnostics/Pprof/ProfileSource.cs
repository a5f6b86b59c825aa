using System.Net;
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
            return await File.ReadAllBytesAsync(source, ct).ConfigureAwait(false);
        }
        Uri url = ResolveUrl(source, seconds, debug);
        TimeSpan total = timeout + TimeSpan.FromSeconds(url.Query.Contains("seconds=", StringComparison.Ordinal) ? seconds ?? DefaultCpuSeconds : 0);
        using var handler = new SocketsHttpHandler { ConnectTimeout = timeout, AutomaticDecompression = DecompressionMethods.None };
        using var client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(total);
        try
        {
            using HttpResponseMessage response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cts.Token).ConfigureAwait(false);
            byte[] body = await response.Content.ReadAsByteArrayAsync(cts.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                string text = System.Text.Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, 200)).Trim();
                throw new ProfileFetchException($"fetch {url}: HTTP {(int)response.StatusCode} {response.ReasonPhrase}{(text.Length > 0 ? ": " + text : "")}");
            }
            return body;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new ProfileFetchException($"fetch {url}: timed out after {total.TotalSeconds:0}s (raise --timeout)");
        }
        catch (HttpRequestException e)
        {
            throw new ProfileFetchException($"fetch {url}: {e.Message}", e);
        }
    }

    public static async Task<Profile> LoadAsync(string source, int? seconds, TimeSpan timeout, CancellationToken ct)
    {
        byte[] bytes = await ReadBytesAsync(source, seconds, timeout, ct).ConfigureAwait(false);
        return ProfileReader.Read(bytes);
    }
}
