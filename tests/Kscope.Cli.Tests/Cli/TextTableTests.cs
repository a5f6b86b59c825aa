using Kscope.Cli.Infrastructure;
using Kscope.Diagnostics.Output;
using Kscope.Diagnostics.Trace;

namespace Kscope.Cli.Tests.Cli;

/// <summary>The one table layout: no value is cut, columns widen to their values, the last one wraps under itself on a terminal.</summary>
[Trait(KscopeCli.Mode, KscopeCli.InProcess)] // library types and a terminal-sized console
public sealed class TextTableTests
{
    [Fact]
    public void Render_LongCells_WholeAndAligned()
    {
        string[][] rows = [["count", "state", "top frame"], ["3", "chan receive (nil chan)", "main.worker /src/app/worker.go:42"], ["120", "IO wait", "net.(*conn).Read"]];
        List<string> lines = TextTable.Render(rows, [true, false]).ToList();
        Assert.Equal(["count  state                    top frame", "    3  chan receive (nil chan)  main.worker /src/app/worker.go:42", "  120  IO wait                  net.(*conn).Read"], lines);
    }

    [Fact]
    public void Render_NarrowTerminal_LastCellWrapsUnderItselfNothingLost()
    {
        string name = "github.com/example/service/internal/handlers.(*Server).ServeHTTP.func1";
        List<string> lines = TextTable.Render([["flat", "cum", ""], ["1.2s", "3.4s", name]], [true, true], width: 40).ToList();
        Assert.All(lines, l => Assert.True(l.Length <= 40, l));
        int column = lines[1].IndexOf("github", StringComparison.Ordinal);
        Assert.All(lines.Skip(2), l => Assert.Equal(new string(' ', column), l[..column]));
        Assert.Equal(name, string.Concat(lines.Skip(1).Select(l => l[column..])));
    }

    [Fact]
    public void Columns_LongerValue_WidensColumnForLaterRowsUpToTheLimit()
    {
        var columns = new TextTable.Columns([10]);
        var sb = new System.Text.StringBuilder();
        columns.Append(sb, 0, "/etc/hostname");
        Assert.Equal("/etc/hostname ", sb.ToString());
        Assert.Equal(13, columns.Width(0));
        sb.Clear();
        columns.Append(sb, 0, "/x");
        Assert.Equal("/x            ", sb.ToString()); // aligned with the wider row above
        string huge = new('p', TextTable.Columns.GrowLimit + 10);
        sb.Clear();
        columns.Append(sb, 0, huge);
        Assert.Equal(huge + " ", sb.ToString()); // written whole; the column keeps its width
        Assert.Equal(13, columns.Width(0));
    }

    [Fact]
    public void TraceWriter_LongNonLastColumn_NeverCut()
    {
        var output = new StringWriter();
        var writer = new TraceWriter(output, "open", json: false, ["comm", "path", "fd"]);
        writer.Write(new Row(("comm", "cat"), ("path", "/etc/hostname.d/a-very-long-file-name.conf"), ("fd", 3L)));
        writer.Write(new Row(("comm", "cat"), ("path", "/etc/hosts"), ("fd", 4L)));
        writer.Flush();
        string[] lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("/etc/hostname.d/a-very-long-file-name.conf 3", lines[1], StringComparison.Ordinal);
        Assert.DoesNotContain("…", output.ToString(), StringComparison.Ordinal);
        Assert.Equal(lines[1].LastIndexOf(' '), lines[2].LastIndexOf(' ')); // the next row lines up with the widened column
    }

    [Fact]
    public void TraceWriter_OnATerminal_LastCellWrapsUnderItself()
    {
        var output = new StringWriter();
        var writer = new TraceWriter(output, "exec", json: false, ["pid", "args"]) { Width = 40 };
        string args = "/usr/bin/python3 -m http.server --bind 127.0.0.1 8080";
        writer.Write(new Row(("pid", 4242L), ("args", args)));
        writer.Flush();
        string[] lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["PID     ARGS", "4242    /usr/bin/python3 -m http.server", "        --bind 127.0.0.1 8080"], lines);
    }

    [Fact]
    public void PprofTop_NarrowTerminal_FunctionNamesWrapNotCut()
    {
        var console = new StringConsole { IsTerminal = true, Width = 64 };
        int code = Program.Run(console, ["pprof", "top", Path.Combine(Tools.SharedTestData, "pprof", "internal", "proftest", "testdata", "large.cpu"), "-n", "20"]);
        Assert.Equal(ExitCodes.Ok, code);
        string[] lines = console.OutText.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.All(lines, l => Assert.True(l.Length <= 64, l));
        Assert.DoesNotContain("…", console.OutText, StringComparison.Ordinal);
    }

    private sealed class Row(params (string Name, object? Value)[] fields) : ITraceRecord
    {
        public ulong TimestampNs => 0;

        public IReadOnlyList<TraceField> Fields() => fields.Select(f => new TraceField(f.Name, f.Value)).ToArray();
    }
}
