using Kscope.Native;
using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Kscope.Cli.Infrastructure;
using Kscope.Diagnostics.Pprof;
using Kscope.Formats.Go;
using Kscope.Formats.Pprof;

namespace Kscope.Cli.Commands;

/// <summary>
/// <c>kscope pprof top|tree|flame|diff|goroutines FILE|URL</c>: read pprof profiles from files or a Go
/// service's /debug/pprof endpoints, without graphviz or a backend.
/// </summary>
public static class PprofCommand
{
    public static Command Create(IConsole console)
    {
        var command = new Command("pprof",
            "Analyse pprof profiles (files or a Go service's /debug/pprof endpoints): top functions, callers/callees, flame graphs, diffs, goroutine dumps.\n" +
            "Examples:\n" +
            "  kscope pprof top cpu.pb.gz -n 20\n" +
            "  kscope pprof top http://127.0.0.1:6060/debug/pprof/profile --seconds 10\n" +
            "  kscope pprof flame http://127.0.0.1:6060/debug/pprof/heap -o heap.svg\n" +
            "  kscope pprof goroutines 127.0.0.1:6060");
        command.Subcommands.Add(Top(console));
        command.Subcommands.Add(Tree(console));
        command.Subcommands.Add(Flame(console));
        command.Subcommands.Add(Diff(console));
        command.Subcommands.Add(Goroutines(console));
        return command;
    }

    private sealed record SourceOptions(Argument<string> Source, Option<int?> Seconds, Option<int> Timeout, Option<string?> SampleIndex, Option<string?> Focus, Option<string?> Ignore);

    private static SourceOptions AddSource(Command c, bool filters = true)
    {
        var source = new Argument<string>("source") { Description = "A profile file (gzipped or not) or an http:// URL (no https: save it with curl -o first): http://HOST:PORT/debug/pprof/{profile,heap,allocs,goroutine,mutex,block,threadcreate}, or HOST:PORT for its CPU profile." };
        var seconds = new Option<int?>("--seconds") { Description = "Profile length when fetching: the CPU profile (default 10); for heap, allocs, mutex, block… a delta over that many seconds." };
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait for an endpoint (on top of --seconds).", DefaultValueFactory = _ => 30 };
        var sampleIndex = new Option<string?>("--sample-index", "-i") { Description = "Sample type to show (alloc_space, inuse_objects, cpu… or its index); default: the profile's default." };
        var focus = new Option<string?>("--focus") { Description = "Keep only samples with a frame matching this regex." };
        var ignore = new Option<string?>("--ignore") { Description = "Drop samples with a frame matching this regex." };
        c.Arguments.Add(source);
        c.Options.Add(seconds);
        c.Options.Add(timeout);
        if (filters)
        {
            c.Options.Add(sampleIndex);
            c.Options.Add(focus);
            c.Options.Add(ignore);
        }
        return new SourceOptions(source, seconds, timeout, sampleIndex, focus, ignore);
    }

    private static async Task<(Profile Profile, StackSet Stacks)> Load(IConsole console, ParseResult parse, SourceOptions o, string source, CancellationToken ct)
    {
        CheckFilters(parse, o);
        Profile profile = await Fetch(console, parse, o, source, ct);
        return (profile, Select(profile, parse, o));
    }

    /// <summary>A file must exist before it is read; a URL is fetched, saying so (a CPU profile takes --seconds), and Ctrl-C ends the wait.</summary>
    private static async Task<Profile> Fetch(IConsole console, ParseResult parse, SourceOptions o, string source, CancellationToken ct)
    {
        if (!ProfileSource.IsUrl(source))
        {
            FileChecks.Input(Verb(parse), source);
        }
        byte[] bytes = ProfileSource.IsUrl(source)
            ? await FetchBytes(console, Verb(parse), source, parse.GetValue(o.Seconds), TimeSpan.FromSeconds(parse.GetValue(o.Timeout)), null, ct)
            : InputFile.ReadAllBytes(source, ProfileReader.MaxUncompressedBytes);
        try
        {
            return ProfileReader.Read(bytes);
        }
        catch (Kscope.Formats.MalformedDataException e)
        {
            throw new CommandException($"{Verb(parse)}: {source}: {e.Message}");
        }
    }

    private static async Task<byte[]> FetchBytes(IConsole console, string verb, string source, int? seconds, TimeSpan timeout, string? debug, CancellationToken ct)
    {
        Uri url = ProfileSource.ResolveUrl(source, seconds, debug);
        string query = url.Query;
        int at = query.IndexOf("seconds=", StringComparison.Ordinal);
        string length = at < 0 ? "" : $" (the endpoint answers after {query[(at + 8)..].Split('&')[0]}s)";
        console.Error.WriteLine($"fetching {url}{length}; Ctrl-C to give up");
        try
        {
            return await ProfileSource.ReadBytesAsync(source, seconds, timeout, ct, debug).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            console.Error.WriteLine($"{verb}: interrupted while fetching {url}: nothing written");
            throw;
        }
    }

    /// <summary>"pprof top", for messages.</summary>
    private static string Verb(ParseResult parse) => "pprof " + parse.CommandResult.Command.Name;

    /// <summary>--focus and --ignore are checked before a profile is fetched for --seconds.</summary>
    private static void CheckFilters(ParseResult parse, SourceOptions o)
    {
        Regex(parse.GetValue(o.Focus), "--focus", Verb(parse));
        Regex(parse.GetValue(o.Ignore), "--ignore", Verb(parse));
    }

    private static StackSet Select(Profile profile, ParseResult parse, SourceOptions o)
    {
        try
        {
            return StackSet.From(profile, parse.GetValue(o.SampleIndex), Regex(parse.GetValue(o.Focus), "--focus", Verb(parse)), Regex(parse.GetValue(o.Ignore), "--ignore", Verb(parse)));
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }
        catch (InvalidDataException e)
        {
            throw new Kscope.Formats.MalformedDataException("pprof", 0, e.Message);
        }
    }

    private static Regex? Regex(string? pattern, string option, string context)
    {
        if (string.IsNullOrEmpty(pattern))
        {
            return null;
        }
        try
        {
            return new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        }
        catch (RegexParseException e)
        {
            throw new UsageException($"{context}: {option} '{pattern}': {ErrorText.Regex(e)}");
        }
    }

    private static Command Top(IConsole console)
    {
        var c = new Command("top", "Functions by flat (own) and cum (inclusive) value, as go tool pprof -top.\nExample: kscope pprof top cpu.pb.gz -n 20 --focus 'main\\.'");
        SourceOptions o = AddSource(c);
        var count = new Option<int>("-n", "--nodecount") { Description = "How many functions to show (0: all).", DefaultValueFactory = _ => 20 };
        var cum = new Option<bool>("--cum") { Description = "Sort by cum instead of flat." };
        Option<bool> json = CommonOptions.Json();
        c.Options.Add(count);
        c.Options.Add(cum);
        c.Options.Add(json);
        c.SetAction((parse, ct) => CommandRunner.RunAsync(console, async token =>
        {
            string source = parse.GetValue(o.Source)!;
            var (profile, stacks) = await Load(console, parse, o, source, token);
            List<TopEntry> entries = TopReport.Compute(stacks, parse.GetValue(cum));
            int n = parse.GetValue(count);
            if (n > 0 && entries.Count > n)
            {
                entries = entries.GetRange(0, n);
            }
            if (parse.GetValue(json))
            {
                WriteJson(console, "top", w =>
                {
                    Header(w, source, profile, stacks);
                    w.WriteStartArray("functions");
                    foreach (TopEntry e in entries)
                    {
                        w.WriteStartObject();
                        w.WriteString("name", e.Name);
                        w.WriteNumber("flat", e.Flat);
                        w.WriteNumber("cum", e.Cum);
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                });
                return ExitCodes.Ok;
            }
            PrintHeader(console, source, profile, stacks);
            string unit = stacks.Type.Unit;
            long total = stacks.UnfilteredTotal;
            var rows = new List<string[]> { new[] { "flat", "flat%", "sum%", "cum", "cum%", "" } };
            long sum = 0;
            foreach (TopEntry e in entries)
            {
                sum += e.Flat;
                rows.Add([ValueFormat.Format(e.Flat, unit), ValueFormat.Percent(e.Flat, total), ValueFormat.Percent(sum, total), ValueFormat.Format(e.Cum, unit), ValueFormat.Percent(e.Cum, total), e.Name]);
            }
            PrintTable(console, rows);
            return ExitCodes.Ok;
        }, ct));
        return c;
    }

    private static Command Tree(IConsole console)
    {
        var c = new Command("tree", "Callers and callees of the functions matching a regex, with the value through each edge (go tool pprof -peek).\nExample: kscope pprof tree cpu.pb.gz 'main\\.handle'");
        SourceOptions o = AddSource(c);
        var pattern = new Argument<string>("function") { Description = "Regex of the function(s) to show." };
        var count = new Option<int>("-n", "--nodecount") { Description = "How many functions to show.", DefaultValueFactory = _ => 5 };
        c.Arguments.Add(pattern);
        c.Options.Add(count);
        c.SetAction((parse, ct) => CommandRunner.RunAsync(console, async token =>
        {
            string source = parse.GetValue(o.Source)!;
            Regex re = Regex(parse.GetValue(pattern), "FUNCTION", "pprof tree")!;
            var (profile, stacks) = await Load(console, parse, o, source, token);
            List<CallTree> trees = CallTree.Compute(stacks, re);
            if (trees.Count == 0)
            {
                throw new UsageException($"no function matches '{re}'");
            }
            PrintHeader(console, source, profile, stacks);
            string unit = stacks.Type.Unit;
            long total = stacks.UnfilteredTotal;
            foreach (CallTree t in trees.Take(Math.Max(1, parse.GetValue(count))))
            {
                console.Out.WriteLine(new string('-', 70));
                foreach (var (name, value) in Clip(t.Callers))
                {
                    console.Out.WriteLine($"{ValueFormat.Format(value, unit),22} {Share(value, t.Cum),7}   {name}");
                }
                console.Out.WriteLine(Ansi.Bold(console, $"{ValueFormat.Format(t.Cum, unit),10} {ValueFormat.Percent(t.Cum, total),7} cum  {ValueFormat.Format(t.Flat, unit)} flat  | {t.Function}"));
                if (t.Flat != 0)
                {
                    console.Out.WriteLine($"{ValueFormat.Format(t.Flat, unit),22} {Share(t.Flat, t.Cum),7}     (self)");
                }
                foreach (var (name, value) in Clip(t.Callees))
                {
                    console.Out.WriteLine($"{ValueFormat.Format(value, unit),22} {Share(value, t.Cum),7}     {name}");
                }
            }
            return ExitCodes.Ok;
        }, ct));
        return c;
    }

    /// <summary>The 10 heaviest edges, then one line saying how many more there are.</summary>
    private static IEnumerable<(string, long)> Clip(IReadOnlyList<(string Name, long Value)> edges)
    {
        foreach (var e in edges.Take(10))
        {
            yield return e;
        }
        if (edges.Count > 10)
        {
            yield return ($"… {edges.Count - 10} more", edges.Skip(10).Sum(e => e.Value));
        }
    }

    private static string Share(long part, long whole) => ValueFormat.Percent(part, whole);

    private static Command Flame(IConsole console)
    {
        var c = new Command("flame", "Write a flame graph: a self-contained SVG (click to zoom, Search/Ctrl-F to highlight) or an HTML page.\nExample: kscope pprof flame cpu.pb.gz -o cpu.svg");
        SourceOptions o = AddSource(c);
        var output = new Option<string>("--output", "-o") { Description = "Output file: .svg, or .html for a page with a search box (the extension chooses).", Required = true };
        c.Options.Add(output);
        c.SetAction((parse, ct) => CommandRunner.RunAsync(console, async token =>
        {
            string source = parse.GetValue(o.Source)!;
            string path = parse.GetValue(output)!;
            string format = ProfileCommand.FlameFormat(path, "-o", "pprof flame");
            FileChecks.Output("pprof flame", "-o", path);
            var (profile, stacks) = await Load(console, parse, o, source, token);
            FlameNode root = FlameNode.Build(stacks);
            string title = $"{Describe(source)} — {stacks.Type.Type} ({ValueFormat.Format(stacks.Total, stacks.Type.Unit)} total)";
            string text = format == "html" ? FlameGraph.Html(root, title, stacks.Type.Unit) : FlameGraph.Svg(root, title, stacks.Type.Unit);
            await File.WriteAllTextAsync(path, text, CancellationToken.None);
            console.Out.WriteLine($"wrote {path} ({stacks.Stacks.Count} stacks, {ValueFormat.Format(stacks.Total, stacks.Type.Unit)})");
            return ExitCodes.Ok;
        }, ct));
        return c;
    }

    private static Command Diff(IConsole console)
    {
        var c = new Command("diff", "Compare two profiles (new minus base): a top table of what grew and shrank, optionally a red/blue flame graph.\nExample: kscope pprof diff before.pb.gz after.pb.gz --flame diff.svg");
        var baseArg = new Argument<string>("base") { Description = "The base profile (file or URL)." };
        c.Arguments.Add(baseArg);
        SourceOptions o = AddSource(c);
        var count = new Option<int>("-n", "--nodecount") { Description = "How many functions to show.", DefaultValueFactory = _ => 20 };
        var normalize = new Option<bool>("--normalize") { Description = "Scale the base to the new profile's total first (compare shapes, not volumes)." };
        var flame = new Option<string?>("--flame") { Description = "Also write a diff flame graph (.svg or .html): width = new, red = grew, blue = shrank." };
        Option<bool> json = CommonOptions.Json();
        c.Options.Add(count);
        c.Options.Add(normalize);
        c.Options.Add(flame);
        c.Options.Add(json);
        c.SetAction((parse, ct) => CommandRunner.RunAsync(console, async token =>
        {
            TimeSpan timeout = TimeSpan.FromSeconds(parse.GetValue(o.Timeout));
            int? seconds = parse.GetValue(o.Seconds);
            string baseSource = parse.GetValue(baseArg)!, newSource = parse.GetValue(o.Source)!;
            string? flameOut = parse.GetValue(flame);
            if (flameOut is not null)
            {
                ProfileCommand.FlameFormat(flameOut, "--flame", "pprof diff");
                FileChecks.Output("pprof diff", "--flame", flameOut);
            }
            CheckFilters(parse, o);
            Profile baseProfile = await Fetch(console, parse, o, baseSource, token);
            Profile newProfile = await Fetch(console, parse, o, newSource, token);
            StackSet b = Select(baseProfile, parse, o), n = Select(newProfile, parse, o);
            if (b.Type != n.Type)
            {
                throw new UsageException($"the profiles measure different things: base {b.Type}, new {n.Type} (pick one with --sample-index)");
            }
            bool norm = parse.GetValue(normalize);
            List<DiffEntry> entries = ProfileDiff.Compute(b, n, norm);
            int max = parse.GetValue(count);
            if (max > 0 && entries.Count > max)
            {
                entries = entries.GetRange(0, max);
            }
            string unit = n.Type.Unit;
            if (parse.GetValue(flame) is { } flamePath)
            {
                FlameNode root = FlameNode.Build(n, b);
                if (norm && b.Total != 0)
                {
                    ScaleBase(root, (double)n.Total / b.Total);
                }
                string title = $"diff {Describe(baseSource)} -> {Describe(newSource)} — {n.Type.Type}";
                string text = ProfileCommand.FlameFormat(flamePath, "--flame", "pprof diff") == "html" ? FlameGraph.Html(root, title, unit, diff: true) : FlameGraph.Svg(root, title, unit, diff: true);
                await File.WriteAllTextAsync(flamePath, text, CancellationToken.None);
            }
            if (parse.GetValue(json))
            {
                WriteJson(console, "diff", w =>
                {
                    w.WriteString("base", baseSource);
                    w.WriteString("new", newSource);
                    w.WriteString("sample_type", n.Type.Type);
                    w.WriteString("unit", unit);
                    w.WriteNumber("base_total", b.Total);
                    w.WriteNumber("new_total", n.Total);
                    w.WriteBoolean("normalized", norm);
                    w.WriteStartArray("functions");
                    foreach (DiffEntry e in entries)
                    {
                        w.WriteStartObject();
                        w.WriteString("name", e.Name);
                        w.WriteNumber("base_flat", e.BaseFlat);
                        w.WriteNumber("new_flat", e.NewFlat);
                        w.WriteNumber("base_cum", e.BaseCum);
                        w.WriteNumber("new_cum", e.NewCum);
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                });
                return ExitCodes.Ok;
            }
            console.Out.WriteLine($"Type: {n.Type.Type}; base total {ValueFormat.Format(b.Total, unit)}, new total {ValueFormat.Format(n.Total, unit)}{(norm ? " (base normalized)" : "")}");
            var rows = new List<string[]> { new[] { "flat Δ", "base flat", "new flat", "cum Δ", "base cum", "new cum", "" } };
            foreach (DiffEntry e in entries)
            {
                rows.Add([Signed(e.FlatDelta, unit), ValueFormat.Format(e.BaseFlat, unit), ValueFormat.Format(e.NewFlat, unit), Signed(e.CumDelta, unit), ValueFormat.Format(e.BaseCum, unit), ValueFormat.Format(e.NewCum, unit), e.Name]);
            }
            PrintTable(console, rows);
            return ExitCodes.Ok;
        }, ct));
        return c;
    }

    private static void ScaleBase(FlameNode n, double factor)
    {
        n.Base = (long)Math.Round(n.Base * factor);
        foreach (FlameNode c in n.Children)
        {
            ScaleBase(c, factor);
        }
    }

    private static string Signed(long v, string unit) => v > 0 ? "+" + ValueFormat.Format(v, unit) : ValueFormat.Format(v, unit);

    private static Command Goroutines(IConsole console)
    {
        var c = new Command("goroutines", "Group a Go goroutine dump by state and identical stack; flag likely leaks and deadlocks.\n" +
            "SOURCE is a text dump (goroutine?debug=2 output, a panic or SIGQUIT traceback) or a service: HOST:PORT or its /debug/pprof/goroutine URL.\n" +
            "Example: kscope pprof goroutines 127.0.0.1:6060");
        SourceOptions o = AddSource(c, filters: false);
        var count = new Option<int>("-n", "--groups") { Description = "How many groups to show (0: all).", DefaultValueFactory = _ => 20 };
        var stacks = new Option<bool>("--stacks") { Description = "Print each group's stack." };
        Option<bool> json = CommonOptions.Json();
        c.Options.Add(count);
        c.Options.Add(stacks);
        c.Options.Add(json);
        c.SetAction((parse, ct) => CommandRunner.RunAsync(console, async token =>
        {
            string source = parse.GetValue(o.Source)!;
            string text;
            if (ProfileSource.IsUrl(source))
            {
                string url = source.Contains("/debug/pprof", StringComparison.Ordinal) ? source : source.TrimEnd('/') + "/debug/pprof/goroutine";
                byte[] bytes = await FetchBytes(console, "pprof goroutines", url, null, TimeSpan.FromSeconds(parse.GetValue(o.Timeout)), "2", token);
                text = Encoding.UTF8.GetString(bytes);
            }
            else
            {
                FileChecks.Input("pprof goroutines", source);
                byte[] bytes = InputFile.ReadAllBytes(source, ProfileReader.MaxUncompressedBytes);
                if (bytes is [0x1f, 0x8b, ..])
                {
                    throw new CommandException($"pprof goroutines: {source}: a gzipped pprof profile, not a text goroutine dump " +
                        "(for a goroutine profile use 'kscope pprof top' on it; dumps come from /debug/pprof/goroutine?debug=2 or a panic)");
                }
                text = Encoding.UTF8.GetString(bytes);
            }
            IReadOnlyList<Goroutine> all = GoroutineDump.Parse(text, source);
            if (all.Count == 0)
            {
                throw new CommandException($"pprof goroutines: {source}: not a goroutine dump: no 'goroutine N [state]:' line " +
                    "(dumps come from /debug/pprof/goroutine?debug=2, a panic or a SIGQUIT traceback)");
            }
            List<GoroutineGroup> groups = GoroutineAnalysis.Group(all);
            int max = parse.GetValue(count);
            IEnumerable<GoroutineGroup> shown = max > 0 ? groups.Take(max) : groups;
            if (parse.GetValue(json))
            {
                WriteJson(console, "goroutines", w =>
                {
                    w.WriteString("source", source);
                    w.WriteNumber("goroutines", all.Count);
                    w.WriteStartArray("groups");
                    foreach (GoroutineGroup g in shown)
                    {
                        w.WriteStartObject();
                        w.WriteString("state", g.State);
                        w.WriteNumber("count", g.Count);
                        if (g.LongestWait is { } lw)
                        {
                            w.WriteNumber("longest_wait_minutes", (long)lw.TotalMinutes);
                        }
                        w.WriteString("top", g.Frames.FirstOrDefault()?.Function ?? "");
                        if (g.CreatedBy is { } cb)
                        {
                            w.WriteString("created_by", cb.Function);
                        }
                        if (g.Finding is { } f)
                        {
                            w.WriteString("finding", f);
                        }
                        w.WriteStartArray("ids");
                        foreach (long id in g.Ids)
                        {
                            w.WriteNumberValue(id);
                        }
                        w.WriteEndArray();
                        w.WriteStartArray("frames");
                        foreach (GoroutineFrame fr in g.Frames)
                        {
                            w.WriteStartObject();
                            w.WriteString("function", fr.Function);
                            w.WriteString("file", fr.File);
                            w.WriteNumber("line", fr.Line);
                            w.WriteEndObject();
                        }
                        w.WriteEndArray();
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                });
                return groups.Any(g => g.Finding is not null) ? ExitCodes.Warnings : ExitCodes.Ok;
            }
            var byState = all.GroupBy(g => g.State).OrderByDescending(g => g.Count()).Select(g => $"{g.Count()} {g.Key}");
            console.Out.WriteLine($"{all.Count} goroutines in {groups.Count} groups: {string.Join(", ", byState)}");
            var rows = new List<string[]> { new[] { "count", "state", "longest wait", "top frame", "created by" } };
            foreach (GoroutineGroup g in shown)
            {
                GoroutineFrame? top = g.Frames.FirstOrDefault(f => !f.Function.StartsWith("runtime.", StringComparison.Ordinal)) ?? g.Frames.FirstOrDefault();
                rows.Add([g.Count.ToString(CultureInfo.InvariantCulture), g.State, g.LongestWait is { } w ? $"{(long)w.TotalMinutes} min" : "", top is null ? "" : $"{top.Function} {Path.GetFileName(top.File)}:{top.Line}", g.CreatedBy?.Function ?? ""]);
            }
            PrintTable(console, rows);
            if (parse.GetValue(stacks))
            {
                foreach (GoroutineGroup g in shown)
                {
                    console.Out.WriteLine();
                    console.Out.WriteLine($"{g.Count} x [{g.State}]");
                    foreach (GoroutineFrame f in g.Frames)
                    {
                        console.Out.WriteLine($"    {f.Function}\n        {f.File}:{f.Line}");
                    }
                }
            }
            var findings = groups.Where(g => g.Finding is not null).ToList();
            foreach (GoroutineGroup g in findings)
            {
                console.Out.WriteLine(Ansi.Yellow(console, "[WARN] " + g.Finding));
            }
            return findings.Count > 0 ? ExitCodes.Warnings : ExitCodes.Ok;
        }, ct));
        return c;
    }

    private static string Describe(string source) => ProfileSource.IsUrl(source) ? source : Path.GetFileName(source);

    private static void PrintHeader(IConsole console, string source, Profile profile, StackSet stacks)
    {
        if (profile.Mappings.Count > 0 && profile.Mappings[0].File.Length > 0)
        {
            console.Out.WriteLine($"File: {Path.GetFileName(profile.Mappings[0].File)}");
        }
        else
        {
            console.Out.WriteLine($"Source: {Describe(source)}");
        }
        console.Out.WriteLine($"Type: {stacks.Type.Type}");
        if (profile.TimeNanos != 0)
        {
            console.Out.WriteLine($"Time: {DateTimeOffset.FromUnixTimeMilliseconds(profile.TimeNanos / 1_000_000):yyyy-MM-dd HH:mm:ss} UTC");
        }
        string unit = stacks.Type.Unit;
        string totals = $"Total: {ValueFormat.Format(stacks.UnfilteredTotal, unit)}";
        if (profile.DurationNanos != 0)
        {
            totals = $"Duration: {ValueFormat.Format(profile.DurationNanos, "nanoseconds")}, " + totals;
        }
        if (stacks.Total != stacks.UnfilteredTotal)
        {
            totals += $"; shown after focus/ignore: {ValueFormat.Format(stacks.Total, unit)} ({ValueFormat.Percent(stacks.Total, stacks.UnfilteredTotal)})";
        }
        console.Out.WriteLine(totals);
    }

    private static void Header(Utf8JsonWriter w, string source, Profile profile, StackSet stacks)
    {
        w.WriteString("source", source);
        w.WriteString("sample_type", stacks.Type.Type);
        w.WriteString("unit", stacks.Type.Unit);
        w.WriteNumber("total", stacks.UnfilteredTotal);
        w.WriteNumber("shown", stacks.Total);
        w.WriteNumber("time_nanos", profile.TimeNanos);
        w.WriteNumber("duration_nanos", profile.DurationNanos);
    }

    /// <summary>The schemas of pprof's JSON documents (docs/json.md): kscope.pprof.top/v1, …diff/v1, …goroutines/v1.</summary>
    internal static string Schema(string subcommand) => $"kscope.pprof.{subcommand}/v1";

    private static void WriteJson(IConsole console, string subcommand, Action<Utf8JsonWriter> body)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("schema", Schema(subcommand));
            body(w);
            w.WriteEndObject();
        }
        console.Out.WriteLine(Encoding.UTF8.GetString(ms.ToArray()));
    }

    /// <summary>Right-aligns every column but the last (a function name, wrapped under itself on a narrow terminal, never cut).</summary>
    private static void PrintTable(IConsole console, List<string[]> rows)
    {
        bool[] right = Enumerable.Repeat(true, rows[0].Length - 1).ToArray();
        foreach (string line in Kscope.Diagnostics.Output.TextTable.Render(rows, right, console.IsTerminal ? console.Width : int.MaxValue))
        {
            console.Out.WriteLine(line);
        }
    }
}
