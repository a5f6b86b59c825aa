using Kscope.Cli.Infrastructure;

namespace Kscope.Cli.Tests.Fuzz;

/// <summary>
/// Every command that reads a file a user names goes through the guarded reader: /dev/zero, /dev/urandom and a
/// FIFO fail at once with one [ERROR] line (exit 3), instead of reading forever or blocking; and an [ERROR] line
/// never carries raw control bytes from the input (issue 13).
/// </summary>
public sealed class InputFileCommandTests
{
    private static (int Code, StringConsole Console) RunWithDeadline(params string[] args)
    {
        var console = new StringConsole();
        Task<int> run = Task.Run(() => Program.BuildRoot(console).Parse(args).Invoke());
        Assert.True(run.Wait(TimeSpan.FromSeconds(120)), $"kscope {string.Join(' ', args)} did not return (reading forever or blocked)");
        return (run.Result, console);
    }

    public static TheoryData<string[]> FileCommands => new()
    {
        new[] { "bpf", "load", "{0}" },
        new[] { "bpf", "objdump", "{0}" },
        new[] { "pprof", "top", "{0}" },
        new[] { "pprof", "goroutines", "{0}" },
        new[] { "buildinfo", "{0}" },
        new[] { "symbolize", "{0}", "0x1000" },
    };

    [Theory]
    [MemberData(nameof(FileCommands))]
    public void FileCommand_DevZeroUrandomOrFifo_FailsAtOnceWithOneLine(string[] template)
    {
        using var dir = new TempDirectory("kscope-fifo-");
        string fifo = dir["pipe"];
        Tools.Check("mkfifo", fifo);
        foreach (string input in new[] { "/dev/zero", "/dev/urandom", fifo })
        {
            string[] args = template.Select(a => a == "{0}" ? input : a).ToArray();
            var (code, c) = RunWithDeadline(args);
            Assert.Equal(ExitCodes.Error, code);
            string error = c.ErrorText.TrimEnd('\n');
            Assert.StartsWith("[ERROR] ", error, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', error);
            Assert.Contains("not a regular file", error, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void ErrorLine_ControlBytesFromTheInput_AreShownEscaped()
    {
        using var dir = new TempDirectory("kscope-escape-");
        string file = dir["dump.txt"];
        File.WriteAllBytes(file, File.ReadAllBytes(Path.Combine(FuzzRegressions.Root, "goroutines", "control-bytes-in-header")));
        var (code, c) = RunWithDeadline("pprof", "goroutines", file);
        Assert.Equal(ExitCodes.Error, code);
        string error = c.ErrorText.TrimEnd('\n');
        Assert.StartsWith("[ERROR] ", error, StringComparison.Ordinal);
        Assert.DoesNotContain(error, ch => ch < ' ' || ch == '\u007f');
        Assert.Contains("\\x1b]0;owned\\x07\\0\\r", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("a\u001b[2Jb", "a\\x1b[2Jb")]
    [InlineData("bell\u0007nul\0cr\rlf\n", "bell\\x07nul\\0cr\\rlf\\n")]
    [InlineData("c1\u009bdel\u007f", "c1\\x9bdel\\x7f")]
    [InlineData("rtl\u202eevil", "rtl\\u202eevil")]
    [InlineData("ünïcödé ok", "ünïcödé ok")]
    public void ErrorLine_Format_EscapesWhatATerminalWouldActOn(string message, string shown) =>
        Assert.Equal("[ERROR] " + shown, ErrorLine.Format(message));
}
