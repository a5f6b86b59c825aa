using System.CommandLine;
using System.Text.Json;
using System.Text.RegularExpressions;
using Kscope.Cli.Infrastructure;
using Kscope.Diagnostics.Trace;
using Kscope.Formats.Elf;

namespace Kscope.Cli.Tests.Cli;

/// <summary>
/// The one machine contract (docs/json.md): every command that has --json is run for real, and each document and
/// each line it writes is an object whose first member is the schema docs/json.md names for that command, with
/// snake_case keys at every depth. The command tree and the table must agree: a new command with --json fails
/// here until it is documented and run below.
/// </summary>
[Trait("Category", "Kernel")]
public sealed partial class JsonContractTests
{
    [Fact]
    public async Task EveryJsonOutput_FollowsTheDocumentedContract()
    {
        Requires.Root();
        Dictionary<string, (string Schema, bool Lines, string Page)> documented = Documented();
        List<string> withJson = [];
        CommandsWithJson(Program.BuildRoot(new StringConsole()), "", withJson);
        Assert.Equal(withJson.Order(StringComparer.Ordinal), documented.Keys.Order(StringComparer.Ordinal));
        foreach ((string path, (string schema, _, string page)) in documented)
        {
            Assert.True(File.ReadAllText(Path.Combine(Tools.RepoRoot, "docs", page)).Contains(schema, StringComparison.Ordinal),
                $"docs/{page} does not name {schema} ({path})");
        }

        var (service, address) = GoProgram.Serve(); // an already running, multi-threaded, busy Go service
        using (service)
        {
            try
            {
                var checkedPaths = new HashSet<string>(StringComparer.Ordinal);
                foreach ((string path, string[] args, Func<int, bool> codeOk) in Invocations(address, service.Id))
                {
                    (int code, string output, string error) = path == "bpf run" ? await RunWhileOpening(args) : Run(args);
                    string line = "kscope " + string.Join(' ', args);
                    Assert.True(codeOk(code), $"{line}: exit {code}\n{error}");
                    (string schema, bool lines, _) = documented[path];
                    List<JsonElement> objects = lines
                        ? output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => Parse(l, line)).ToList()
                        : [Parse(output, line)];
                    Assert.True(objects.Count > 0, $"{line}: no JSON on stdout\n{error}");
                    foreach (JsonElement o in objects)
                    {
                        Validate(o, schema, line);
                        if (path == "trace" && o.GetProperty("type").GetString() is "event" or "interval" or "total")
                        {
                            // The gadget's schema (what --fields accepts, what docs/trace.md lists) is what it writes, in order.
                            Gadget g = GadgetCatalog.Find(o.GetProperty("gadget").GetString()!)!;
                            string type = o.GetProperty("type").GetString()!;
                            IReadOnlyList<string> keys = g.Schema[type == "interval" ? "total" : type];
                            Assert.Equal(["schema", "type", "gadget", .. keys], o.EnumerateObject().Select(p => p.Name));
                        }
                    }
                    checkedPaths.Add(path);
                }
                Assert.Equal(documented.Keys.Order(StringComparer.Ordinal), checkedPaths.Order(StringComparer.Ordinal));
            }
            finally
            {
                service.Kill();
            }
        }
    }

    /// <summary>Each command with --json, with inputs that exist here (shared testdata, the Go test program, the example object).</summary>
    private static IEnumerable<(string Path, string[] Args, Func<int, bool> CodeOk)> Invocations(string address, int servicePid)
    {
        static bool Ok(int c) => c == ExitCodes.Ok;
        static bool Completed(int c) => c is ExitCodes.Ok or ExitCodes.Warnings or ExitCodes.Failures;
        string large = Path.Combine(Tools.SharedTestData, "pprof", "internal", "proftest", "testdata", "large.cpu");
        string hello = Path.Combine(Tools.RepoRoot, "bpf", "examples", "hello.bpf.o");
        string go = GoProgram.Exe;
        string hot = $"0x{ElfFile.Parse(File.ReadAllBytes(go)).Symbols.First(s => s.Name == "main.hotInner").Value:x}";
        string pid = servicePid.ToString(System.Globalization.CultureInfo.InvariantCulture);

        yield return ("doctor", ["doctor", "--json"], Completed);
        string diagnoseOut = Path.Combine(Path.GetTempPath(), $"kscope-json-diagnose-{Environment.ProcessId}-{Guid.NewGuid():N}");
        yield return ("diagnose", ["diagnose", "--pid", pid, "--for", "2s", "--out", diagnoseOut, "--json"], Completed);
        Directory.Delete(diagnoseOut, recursive: true);
        yield return ("kvm check", ["kvm", "check", "--json"], _ => true); // without /dev/kvm it reports that, as JSON
        yield return ("btf dump", ["btf", "dump", "sk_buff", "--json"], Ok);
        yield return ("btf find", ["btf", "find", "task_*", "--kind", "struct", "--json"], Ok);
        yield return ("btf diff", ["btf", "diff", "/sys/kernel/btf/vmlinux", "/sys/kernel/btf/vmlinux", "list_head", "--json"], Ok);
        // exit 2 on a kernel older than the mirrors (the tests/kernels guests: newer members, kvm as an unloaded module); the JSON is the same contract
        yield return ("btf verify", ["btf", "verify", Path.Combine(AppContext.BaseDirectory, "Kscope.Native.dll"), "--json"], Completed);
        yield return ("pprof top", ["pprof", "top", large, "-n", "5", "--json"], Ok);
        yield return ("pprof diff", ["pprof", "diff", large, large, "-n", "5", "--json"], Ok);
        yield return ("pprof goroutines", ["pprof", "goroutines", address, "--json"], Completed);
        yield return ("symbolize", ["symbolize", go, hot, "--json"], Ok);
        yield return ("symbolize", ["symbolize", "--pid", pid, hot, "--json"], Ok);
        yield return ("buildinfo", ["buildinfo", go, "--json"], Ok);
        yield return ("bpf load", ["bpf", "load", hello, "--json"], Ok);
        yield return ("bpf objdump", ["bpf", "objdump", hello, "--json"], Ok);
        yield return ("bpf probe", ["bpf", "probe", "--json"], Ok);
        yield return ("bpf run", ["bpf", "run", hello, "--record", "event", "--for", "2s", "--json"], Ok);
        yield return ("trace", ["trace", "--list", "--json"], Ok);
        foreach (Gadget g in GadgetCatalog.All)
        {
            bool lacking = GadgetCatalog.Check(g).Any(c => c.Present == false);
            string[] extra = g.Name switch
            {
                "syscalls" or "runqlat" => ["--slow", "0"],
                "cpu-throttle" => ["--interval", "100ms"],
                "offcpu" => ["--slow", "0"],
                _ => [],
            };
            // A command that execs, opens, signals itself, blocks and sleeps: most gadgets have events or rows.
            yield return ("trace", ["trace", g.Name, "--json", .. extra, "--", "/bin/sh", "-c", "cat /etc/hostname >/dev/null; kill -0 $$; sleep 0.3"],
                c => c == ExitCodes.Ok || (lacking && c == ExitCodes.Unsupported));
        }
    }

    private static void Validate(JsonElement o, string schema, string line)
    {
        Assert.True(o.ValueKind == JsonValueKind.Object, $"{line}: {o.ValueKind}, not an object");
        JsonProperty first = o.EnumerateObject().First();
        Assert.True(first.Name == "schema", $"{line}: first member is '{first.Name}', not 'schema': {Clip(o)}");
        Assert.True(first.Value.GetString() == schema, $"{line}: schema '{first.Value}', documented '{schema}'");
        Keys(o, line, "$");
    }

    private static void Keys(JsonElement e, string line, string where)
    {
        if (e.ValueKind == JsonValueKind.Object)
        {
            foreach (JsonProperty p in e.EnumerateObject())
            {
                Assert.True(SnakeCase().IsMatch(p.Name), $"{line}: key '{p.Name}' at {where} is not snake_case");
                Keys(p.Value, line, $"{where}.{p.Name}");
            }
        }
        else if (e.ValueKind == JsonValueKind.Array)
        {
            int i = 0;
            foreach (JsonElement item in e.EnumerateArray())
            {
                Keys(item, line, $"{where}[{i++}]");
            }
        }
    }

    /// <summary>docs/json.md's table: command path -> (schema, JSON lines or one document, the page documenting its members).</summary>
    private static Dictionary<string, (string Schema, bool Lines, string Page)> Documented()
    {
        var table = new Dictionary<string, (string, bool, string)>(StringComparer.Ordinal);
        foreach (string row in File.ReadLines(Path.Combine(Tools.RepoRoot, "docs", "json.md")))
        {
            Match m = Row().Match(row);
            if (!m.Success)
            {
                continue;
            }
            string path = string.Join(' ', m.Groups["command"].Value.Split(' ').Skip(1).TakeWhile(w => w.Length > 0 && char.IsAsciiLetterLower(w[0])));
            var entry = (m.Groups["schema"].Value, m.Groups["shape"].Value == "lines", m.Groups["page"].Value);
            Assert.True(!table.TryGetValue(path, out var seen) || seen == entry, $"docs/json.md: '{path}' documented twice, differently");
            table[path] = entry;
        }
        Assert.True(table.Count >= 10, "docs/json.md: schema table not found");
        return table;
    }

    private static void CommandsWithJson(Command command, string path, List<string> found)
    {
        if (command.Options.Any(o => o.Name == "--json"))
        {
            found.Add(path);
        }
        foreach (Command sub in command.Subcommands)
        {
            CommandsWithJson(sub, path.Length == 0 ? sub.Name : $"{path} {sub.Name}", found);
        }
    }

    private static (int Code, string Out, string Err) Run(string[] args)
    {
        var console = new StringConsole();
        int code = KscopeCli.Invoke(console, args);
        return (code, console.OutText, console.ErrorText);
    }

    /// <summary>bpf run of the example, opening files meanwhile so its tracepoint has records to print.</summary>
    private static async Task<(int Code, string Out, string Err)> RunWhileOpening(string[] args)
    {
        var console = new StringConsole();
        Task<int> run = KscopeCli.InvokeAsync(console, args, TestContext.Current.CancellationToken);
        while (!run.IsCompleted)
        {
            File.ReadAllBytes("/proc/self/stat");
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
        return (await run, console.OutText, console.ErrorText);
    }

    private static JsonElement Parse(string text, string line)
    {
        try
        {
            using JsonDocument d = JsonDocument.Parse(text);
            return d.RootElement.Clone();
        }
        catch (JsonException e)
        {
            Assert.Fail($"{line}: not one JSON value ({e.Message}):\n{KscopeProcess.Tail(text, 800)}");
            throw;
        }
    }

    private static string Clip(JsonElement o) => KscopeProcess.Tail(o.GetRawText(), 300);

    [GeneratedRegex("^[a-z][a-z0-9]*(_[a-z0-9]+)*$")]
    private static partial Regex SnakeCase();

    // | `kscope pprof top SOURCE --json` | `kscope.pprof.top/v1` | document | [pprof.md](pprof.md) |
    [GeneratedRegex(@"^\| `(?<command>kscope [^`]*--json)` \| `(?<schema>kscope\.[a-z.]+/v[0-9]+)` \| (?<shape>document|lines) \| \[[^\]]+\]\((?<page>[a-z-]+\.md)")]
    private static partial Regex Row();
}
