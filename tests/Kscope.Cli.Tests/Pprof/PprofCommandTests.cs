using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Xml.Linq;
using Kscope.Cli.Infrastructure;
using Kscope.Formats.Pprof;

namespace Kscope.Cli.Tests.Pprof;

public class PprofCommandTests
{
    private static string Large => Path.Combine(Tools.SharedTestData, "pprof", "internal", "proftest", "testdata", "large.cpu");

    private static (int Code, StringConsole Console) Run(params string[] args)
    {
        var console = new StringConsole();
        int code = KscopeCli.Invoke(console, args);
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
        Assert.Equal(GoRawTotal("-focus=^time\\.now$", Large), doc.RootElement.GetProperty("shown").GetInt64());
        var (code2, c2) = Run("pprof", "top", Large, "--ignore", "^time\\.", "--json");
        Assert.Equal(ExitCodes.Ok, code2);
        using JsonDocument doc2 = JsonDocument.Parse(c2.OutText);
        Assert.DoesNotContain(doc2.RootElement.GetProperty("functions").EnumerateArray(), f => f.GetProperty("name").GetString()!.StartsWith("time.", StringComparison.Ordinal));
        // Exactly what go tool pprof keeps with the same filter (the sum of its filtered samples, in nanoseconds).
        Assert.Equal(GoRawTotal("-ignore=^time\\.", Large), doc2.RootElement.GetProperty("shown").GetInt64());
    }

    /// <summary>The sum of the cpu values of the samples <c>go tool pprof -raw FILTER</c> keeps (exact: -raw prints every sample).</summary>
    private static long GoRawTotal(string filter, string profile)
    {
        string raw = GoProgram.Go("tool", "pprof", "-raw", filter, profile);
        long total = 0;
        bool samples = false;
        foreach (string line in raw.Split('\n'))
        {
            if (line.StartsWith("samples/count", StringComparison.Ordinal))
            {
                samples = true;
                continue;
            }
            if (samples && line.StartsWith("Locations", StringComparison.Ordinal))
            {
                break;
            }
            string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (samples && f.Length >= 2 && f[1].EndsWith(':'))
            {
                total += long.Parse(f[1].TrimEnd(':'), System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        Assert.True(samples, "go tool pprof -raw printed no samples: " + raw[..Math.Min(raw.Length, 300)]);
        return total;
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

    /// <summary>Two different profiles of the Go program: every delta go tool pprof -diff_base shows, kscope shows too.</summary>
    [Fact]
    public void Diff_TwoGoProfiles_DeltasMatchGoToolPprofDiffBase()
    {
        string a = Path.Combine(GoProgram.Dir, "diffbase-a.pb.gz"), b = Path.Combine(GoProgram.Dir, "diffbase-b.pb.gz");
        GoProgram.Run("-cpuprofile", a, "-for", "1s");
        GoProgram.Run("-cpuprofile", b, "-for", "2s");
        string svg = Path.Combine(Path.GetTempPath(), $"kscope-diff-{Environment.ProcessId}.svg");
        try
        {
            var (code, c) = Run("pprof", "diff", a, b, "--json", "-n", "100000", "--flame", svg);
            Assert.Equal(ExitCodes.Ok, code);
            using JsonDocument doc = JsonDocument.Parse(c.OutText);
            var ours = doc.RootElement.GetProperty("functions").EnumerateArray().ToDictionary(
                f => f.GetProperty("name").GetString()!,
                f => (Flat: f.GetProperty("new_flat").GetInt64() - f.GetProperty("base_flat").GetInt64(), Cum: f.GetProperty("new_cum").GetInt64() - f.GetProperty("base_cum").GetInt64()));
            var rows = GoDiffTop(a, b);
            Assert.Contains(rows, r => r.Flat != 0); // two runs of different length: something changed
            foreach (var (name, flat, flatTolerance, cum, cumTolerance) in rows)
            {
                Assert.True(ours.TryGetValue(name, out var delta), $"go tool pprof -diff_base lists {name}; kscope pprof diff does not");
                Assert.True(Math.Abs(delta.Flat - flat) <= flatTolerance, $"{name}: flat delta {delta.Flat} vs go {flat}");
                Assert.True(Math.Abs(delta.Cum - cum) <= cumTolerance, $"{name}: cum delta {delta.Cum} vs go {cum}");
            }
            XDocument.Load(svg);
        }
        finally
        {
            File.Delete(svg);
        }
    }

    /// <summary><c>go tool pprof -top -diff_base=A B</c>: (name, flat delta, its print tolerance, cum delta, tolerance) per row.</summary>
    private static List<(string Name, double Flat, double FlatTolerance, double Cum, double CumTolerance)> GoDiffTop(string a, string b)
    {
        string output = GoProgram.Go("tool", "pprof", "-top", "-nodecount=20", $"-diff_base={a}", b);
        var rows = new List<(string, double, double, double, double)>();
        bool table = false;
        foreach (string line in output.Split('\n'))
        {
            if (line.TrimStart().StartsWith("flat  flat%", StringComparison.Ordinal))
            {
                table = true;
                continue;
            }
            string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (!table || parts.Length < 6)
            {
                continue;
            }
            static (double, double) Signed(string text)
            {
                var (v, t) = GoPprofTop.Value(text.TrimStart('-'));
                return (text.StartsWith('-') ? -v : v, t);
            }
            var (flat, ft) = Signed(parts[0]);
            var (cum, ct) = Signed(parts[3]);
            string name = string.Join(' ', parts[5..]).Replace(" (partial-inline)", "", StringComparison.Ordinal).Replace(" (inline)", "", StringComparison.Ordinal);
            rows.Add((name, flat, ft, cum, ct));
        }
        Assert.NotEmpty(rows);
        return rows;
    }

    [Fact]
    public void Diff_GoProfilesOfDifferentLength_TotalsAreEachProfiles()
    {
        string a = Path.Combine(GoProgram.Dir, "diff-a.pb.gz"), b = Path.Combine(GoProgram.Dir, "diff-b.pb.gz");
        GoProgram.Run("-cpuprofile", a, "-for", "1s");
        GoProgram.Run("-cpuprofile", b, "-for", "2s");
        var (code, c) = Run("pprof", "diff", a, b, "--json");
        Assert.Equal(ExitCodes.Ok, code);
        using JsonDocument doc = JsonDocument.Parse(c.OutText);
        // Each side's total is that profile's own (the default sample index summed), whatever CPU each run got on a
        // loaded machine: a 2 s run need not sample more than a 1 s one when other jobs take the cores.
        static long Total(string path)
        {
            Profile p = ProfileReader.Read(File.ReadAllBytes(path));
            return p.Samples.Sum(s => s.Values[p.DefaultSampleIndex]);
        }
        Assert.Equal(Total(a), doc.RootElement.GetProperty("base_total").GetInt64());
        Assert.Equal(Total(b), doc.RootElement.GetProperty("new_total").GetInt64());
        Assert.True(Total(b) > 0 && Total(a) > 0);
        var (code2, _) = Run("pprof", "diff", a, b, "--normalize");
        Assert.Equal(ExitCodes.Ok, code2);
    }

    [Fact]
    public void Top_MissingFileOrBadProfile_OneLineErrors()
    {
        var (code, c) = Run("pprof", "top", "/nonexistent/cpu.pb.gz");
        Assert.Equal(ExitCodes.Error, code);
        Assert.Equal("[ERROR] pprof top: open /nonexistent/cpu.pb.gz: no such file (ENOENT)\n", c.ErrorText);
        string bad = Path.Combine(Path.GetTempPath(), $"kscope-bad-{Environment.ProcessId}.pb");
        File.WriteAllBytes(bad, [0x0a, 0x05, 0x01]);
        try
        {
            var (code2, c2) = Run("pprof", "top", bad);
            Assert.Equal(ExitCodes.Error, code2);
            Assert.StartsWith($"[ERROR] pprof top: {bad}: pprof: at offset", c2.ErrorText, StringComparison.Ordinal);
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
                Assert.Equal("cpu", doc.RootElement.GetProperty("sample_type").GetString());
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
    public void Fetch_Https_FailsSayingHowToGetTheFile()
    {
        // kscope ships no TLS stack (README, "Ship it"): https fails at once, before any connection, with what to do.
        var (code, c) = Run("pprof", "top", "https://127.0.0.1:1/debug/pprof/heap");
        Assert.Equal(ExitCodes.Error, code);
        Assert.Contains("https is not supported", c.ErrorText, StringComparison.Ordinal);
        Assert.Contains("curl -o", c.ErrorText, StringComparison.Ordinal);
    }

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
        // Never answered: without the 1 s timeout the command would wait for ever, so finishing at all (the deadline only
        // turns a hang into a failure) and saying "timed out" is the check, not how long it took.
        var (code2, c2) = Poll.Finished(Task.Run(() => Run("pprof", "top", $"http://127.0.0.1:{silentPort}/debug/pprof/heap", "--timeout", "1")),
            "pprof top against a server that never answers, --timeout 1");
        Assert.Equal(ExitCodes.Error, code2);
        Assert.Contains("timed out", c2.ErrorText, StringComparison.Ordinal);
        silent.Stop();
    }
}
