using System.Text;
using Kscope.Formats.Http;

namespace Kscope.Formats.Tests.Http;

/// <summary>
/// The HTTP/1.x response reader behind <c>pprof</c>'s URL fetching. Real Go net/http responses (Content-Length and
/// chunked) are read in tests/Kscope.Cli.Tests/Pprof/PprofCommandTests.cs (Endpoints_LiveGoService_AllProfilesReadable);
/// here: the framings byte by byte, and every malformed response is a MalformedDataException naming an offset.
/// </summary>
public sealed class HttpResponseTests
{
    private static HttpResponse Parse(string text) => HttpResponse.Parse(Encoding.Latin1.GetBytes(text));

    [Fact]
    public void Parse_ContentLength_BodyIsThatLong()
    {
        HttpResponse r = Parse("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 5\r\n\r\nhello");
        Assert.Equal(200, r.StatusCode);
        Assert.Equal("OK", r.ReasonPhrase);
        Assert.True(r.IsSuccessStatusCode);
        Assert.Equal("hello", Encoding.ASCII.GetString(r.Body));
    }

    [Fact]
    public void Parse_Chunked_BodyIsTheChunksJoined()
    {
        // What Go's net/http sends when the handler writes more than its buffer without a Content-Length.
        HttpResponse r = Parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n6;ext=1\r\npedia \r\nE\r\nin \r\n\r\nchunks.\r\n0\r\nX-Trailer: 1\r\n\r\n");
        Assert.Equal("Wikipedia in \r\n\r\nchunks.", Encoding.ASCII.GetString(r.Body));
    }

    [Fact]
    public void Parse_NoLength_BodyRunsToTheEnd()
    {
        HttpResponse r = Parse("HTTP/1.0 404 Not Found\r\n\r\n404 page not found\n");
        Assert.Equal(404, r.StatusCode);
        Assert.False(r.IsSuccessStatusCode);
        Assert.Equal("404 page not found\n", Encoding.ASCII.GetString(r.Body));
    }

    [Theory]
    [InlineData("", 0)]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n", 36)]
    [InlineData("SSH-2.0-OpenSSH_9.2\r\n\r\n", 0)]
    [InlineData("HTTP/1.1 2x0 OK\r\n\r\n", 0)]
    [InlineData("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", 17)]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 17)]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort", 43)]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 36)]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", 17)]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 47)]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffff\r\n", 47)]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc", 54)]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXX0\r\n\r\n", 53)]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n", 55)]
    [InlineData("HTTP/1.1 200 OK\r\nX-Bad: a\u0001b\r\n\r\n", 23)]
    public void Parse_Malformed_ThrowsNamingTheOffset(string text, long offset)
    {
        var e = Assert.Throws<MalformedDataException>(() => Parse(text));
        Assert.Equal("HTTP response", e.FormatName);
        Assert.Equal(offset, e.Offset);
    }

    [Fact]
    public void Parse_EndlessHeaders_StopsAtTheLimit()
    {
        string text = "HTTP/1.1 200 OK\r\n" + string.Concat(Enumerable.Repeat("X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n", 4000));
        var e = Assert.Throws<MalformedDataException>(() => Parse(text));
        Assert.Equal(HttpResponse.MaxHeaderBytes, e.Offset);
    }
}
