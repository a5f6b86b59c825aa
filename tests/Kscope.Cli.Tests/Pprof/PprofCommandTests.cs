using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Xml.Linq;
using Kscope.Cli.Infrastructure;

namespace Kscope.Cli.Tests.Pprof;

public class PprofCommandTests
{
    private static string Large => Path.Combine(Tools.SharedTestData, "pprof", "internal", "proftest", "testdata", "large.cpu");

    private static (int Code, StringConsole Console) Run(params string[] args)
    {
        var console = new StringConsole();
        int code = Program.BuildRoot(console).Parse(args).Invoke();
        return (code, console);
    }

    [Fact]
    public void Top_LargeFile_PrintsGoLikeTable()
    {
        var (code, c) = Run("pprof", "top", Large, "-n", "3");
        Assert.Equal(ExitCodes.Ok, code);
        string[] lines = c.OutText.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(lines, l => l.Contains("205.17s", StringComparison.Ordinal) && l.EndsWith("time.Now", StringComparison.Ordinal));
        Assert.Contains("Total: 240.29s", c.OutText, StringComparison.Ordinal);
    }

    [Fact]
    public void Top_FocusAndIgnore_FilterSamples()
    {
        var (code, c) = Run("pprof", "top", Large, "--focus", "^time\\.now$", "--json");
        Assert.Equal(ExitCodes.Ok, code);
        using JsonDocument doc = JsonDocument.Parse(c.OutText);
        Assert.Equal(22_910_000_000, doc.RootElement.GetProperty("shown").GetInt64());
        var (code2, c2) = Run("pprof", "top", Large, "--ignore", "^time\\.", "--json");
        Assert.Equal(ExitCodes.Ok, code2);
        using JsonDocument doc2 = JsonDocument.Parse(c2.OutText);
        Assert.DoesNotContain(doc2.RootElement.GetProperty("functions").EnumerateArray(), f => f.GetProperty("name").GetString()!.StartsWith("time.", StringComparison.Ordinal));
        Assert.Equal(240_290_000_000 - 205_170_000_000 - 22_910_000_000 - doc2.RootElement.GetProperty("functions").EnumerateArray().Count() * 0 /* exact below */, doc2.RootElement.GetProperty("shown").GetInt64(), 2_000_000_000.0);
    }

    [Fact]
    public void Tree_Function_ShowsCallersAndCallees()
    {
        var (code, c) = Run("pprof", "tree", Large, "^main\\.next$");
        Assert.Equal(ExitCodes.Ok, code);
        Assert.Contains("main.main", c.OutText, StringComparison.Ordinal);
        Assert.Contains("time.Now", c.OutText, StringComparison.Ordinal);
        Assert.Contains("| main.next", c.OutText, StringComparison.Ordinal);
    }

    [Fact]
    public void Flame_Svg_IsWellFormedWithSearchAndZoom()
    {
        string svg = Path.Combine(Path.GetTempPath(), $"kscope-flame-{Environment.ProcessId}.svg");
        string html = Path.ChangeExtension(svg, ".html");
        try
        {
            Assert.Equal(ExitCodes.Ok, Run("pprof", "flame", Large, "-o", svg).Code);
            XDocument doc = XDocument.Load(svg);
            XNamespace ns = "http://www.w3.org/2000/svg";
            var titles = doc.Descendants(ns + "title").Select(t => t.Value).ToList();
            Assert.Contains(titles, t => t.StartsWith("time.Now (", StringComparison.Ordinal));
            Assert.Contains(titles, t => t.StartsWith("all (240.29s, 100.00%)", StringComparison.Ordinal));
            string text = File.ReadAllText(svg);
            Assert.Contains("function kscopeSearch", text, StringComparison.Ordinal);
            Assert.Contains("function kscopeZoom", text, StringComparison.Ordinal);
            Assert.DoesNotContain("href=\"http", text, StringComparison.Ordinal);
            Assert.Equal(ExitCodes.Ok, Run("pprof", "flame", Large, "-o", html).Code);
            Assert.Contains("<input id=\"kscope-q\"", File.ReadAllText(html), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(svg);
            File.Delete(html);
        }
    }

    [Fact]
    public void Diff_SameProfile_AllDeltasZero()
    {
        string svg = Path.Combine(Path.GetTempPath(), $"kscope-diff-{Environment.ProcessId}.svg");
        try
        {
            var (code, c) = Run("pprof", "diff", Large, Large, "--json", "--flame", svg);
            Assert.Equal(ExitCodes.Ok, code);
            using JsonDocument doc = JsonDocument.Parse(c.OutText);
            Assert.All(doc.RootElement.GetProperty("functions").EnumerateArray(), f =>
                Assert.Equal(f.GetProperty("baseFlat").GetInt64(), f.GetProperty("newFlat").GetInt64()));
            XDocument.Load(svg);
        }
        finally
        {
            File.Delete(svg);
        }
    }

    [Fact]
    public void Diff_GoProfilesOfDifferentLength_ShowsGrowth()
    {
        string a = Path.Combine(GoProgram.Dir, "diff-a.pb.gz"), b = Path.Combine(GoProgram.Dir, "diff-b.pb.gz");
        GoProgram.Run("-cpuprofile", a, "-for", "1s");
        GoProgram.Run("-cpuprofile", b, "-for", "2s");
        var (code, c) = Run("pprof", "diff", a, b, "--json");
        Assert.Equal(ExitCodes.Ok, code);
        using JsonDocument doc = JsonDocument.Parse(c.OutText);
        Assert.True(doc.RootElement.GetProperty("newTotal").GetInt64() > doc.RootElement.GetProperty("baseTotal").GetInt64());
        var (code2, _) = Run("pprof", "diff", a, b, "--normalize");
        Assert.Equal(ExitCodes.Ok, code2);
    }

    [Fact]
    public void Top_MissingFileOrBadProfile_OneLineErrors()
    {
        var (code, c) = Run("pprof", "top", "/nonexistent/cpu.pb.gz");
        Assert.Equal(ExitCodes.Error, code);
        Assert.StartsWith("[ERROR] open /nonexistent/cpu.pb.gz: no such file", c.ErrorText, StringComparison.Ordinal);
        string bad = Path.Combine(Path.GetTempPath(), $"kscope-bad-{Environment.ProcessId}.pb");
        File.WriteAllBytes(bad, [0x0a, 0x05, 0x01]);
        try
        {
            var (code2, c2) = Run("pprof", "top", bad);
            Assert.Equal(ExitCodes.Error, code2);
            Assert.StartsWith("[ERROR] pprof: at offset", c2.ErrorText, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(bad);
        }
        Assert.Equal(ExitCodes.Usage, Run("pprof", "top", Large, "--sample-index", "alloc_space").Code);
        Assert.Equal(ExitCodes.Usage, Run("pprof", "top", Large, "--focus", "(").Code);
    }

    [Fact]
    public void Endpoints_LiveGoService_AllProfilesReadable()
    {
        var (process, address) = GoProgram.Serve();
        try
        {
            var (code, c) = Run("pprof", "top", $"http://{address}/debug/pprof/profile", "--seconds", "2", "--json");
            Assert.True(code == ExitCodes.Ok, c.ErrorText);
            using (JsonDocument doc = JsonDocument.Parse(c.OutText))
            {
                Assert.Equal("cpu", doc.RootElement.GetProperty("sampleType").GetString());
                Assert.Contains(doc.RootElement.GetProperty("functions").EnumerateArray(), f => f.GetProperty("name").GetString() is "main.hotInner" or "main.coldLoop" or "main.burn");
            }
            foreach (string endpoint in new[] { "heap", "allocs", "goroutine", "mutex", "block", "threadcreate" })
            {
                var (ec, ecn) = Run("pprof", "top", $"http://{address}/debug/pprof/{endpoint}");
                Assert.True(ec == ExitCodes.Ok, $"{endpoint}: {ecn.ErrorText}");
            }
            // go tool pprof's host:port shorthand means the CPU profile.
            Assert.Equal(ExitCodes.Ok, Run("pprof", "top", address, "--seconds", "1").Code);
            var (gc, g) = Run("pprof", "goroutines", address, "--json", "-n", "0");
            Assert.True(gc is ExitCodes.Ok or ExitCodes.Warnings, g.ErrorText);
            using JsonDocument gd = JsonDocument.Parse(g.OutText);
            var groups = gd.RootElement.GetProperty("groups").EnumerateArray().ToList();
            JsonElement chan = groups.Single(x => Frames(x).Contains("main.blockOnChan"));
            Assert.Equal(7, chan.GetProperty("count").GetInt32());
            Assert.Equal("chan receive", chan.GetProperty("state").GetString());
            JsonElement mutex = groups.Single(x => Frames(x).Contains("main.blockOnMutex"));
            Assert.Equal(3, mutex.GetProperty("count").GetInt32());

            var (nf, nfc) = Run("pprof", "top", $"http://{address}/debug/pprof/nosuch");
            Assert.Equal(ExitCodes.Error, nf);
            Assert.Contains("HTTP 404", nfc.ErrorText, StringComparison.Ordinal);
        }
        finally
        {
            process.Kill();
            process.WaitForExit();
            process.Dispose();
        }
    }

    private static List<string> Frames(JsonElement group) =>
        group.GetProperty("frames").EnumerateArray().Select(f => f.GetProperty("function").GetString()!).ToList();

    [Fact]
    public void Fetch_RefusedAndSilentServers_FailWithinTimeout()
    {
        // A port nobody listens on: bind, take the port, close.
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        var (code, c) = Run("pprof", "top", $"127.0.0.1:{port}", "--seconds", "1");
        Assert.Equal(ExitCodes.Error, code);
        Assert.Contains("fetch http://127.0.0.1:", c.ErrorText, StringComparison.Ordinal);

        // A server that accepts and never answers.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        int silentPort = ((IPEndPoint)silent.LocalEndpoint).Port;
        var sw = Stopwatch.StartNew();
        var (code2, c2) = Run("pprof", "top", $"http://127.0.0.1:{silentPort}/debug/pprof/heap", "--timeout", "1");
        Assert.Equal(ExitCodes.Error, code2);
        Assert.Contains("timed out", c2.ErrorText, StringComparison.Ordinal);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(30));
        silent.Stop();
    }
}
