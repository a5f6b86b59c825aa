using System.Text.RegularExpressions;
using Kscope.Cli.Infrastructure;

namespace Kscope.Cli.Tests.Cli;

/// <summary>
/// The command line as a new user meets it: usage errors are one line naming the word at fault with the --help to
/// read, exit 64; only '--' starts a traced or profiled command; anticipated failures are kscope's own words (never
/// the runtime's resource keys, which is what the shipped build has instead of messages), exit 3 or 4; outputs are
/// checked before the work.
/// </summary>
public sealed partial class CommandLineContractTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var console = new StringConsole();
        int code = KscopeCli.Invoke(console, args);
        return (code, console.OutText, console.ErrorText);
    }

    public static TheoryData<string[], string> UsageErrors => new()
    {
        { ["trace", "exec", "--pid", "abc"], "trace: --pid 'abc' is not a process id" },
        { ["trace", "exec", "--pid", "1", "--pid", "x2"], "trace: --pid 'x2' is not a process id" },
        { ["trace", "exec", "--bogus"], "trace: unknown option '--bogus'" },
        { ["trace", "exec", "--for", "1s", "ls"], "trace: unexpected argument 'ls' (a command to run goes after '--'" },
        { ["trace", "exec", "--fields", "pid,nosuch"], "trace exec: --fields: no field 'nosuch' (have: time_ns,pid," },
        { ["trace", "nope"], "trace: no gadget 'nope'" },
        { ["doctr"], "kscope: unknown command 'doctr' (did you mean 'doctor'?)" },
        { ["frobnicate"], "kscope: unknown command 'frobnicate' (commands: version, trace," },
        { ["doctor", "--pid"], "doctor: --pid needs a value" },
        { ["doctor", "--pdi", "3"], "doctor: unknown option '--pdi' (did you mean '--pid'?)" },
        { ["pprof", "flame", "cpu.pb.gz"], "pprof flame: --output is required" },
        { ["pprof", "top"], "pprof top: missing SOURCE" },
        { ["pprof", "top", "a.pb.gz", "-n", "many"], "pprof top: -n 'many' is not a whole number" },
        { ["pprof", "frob"], "pprof: unknown command 'frob'" },
        { ["symbolize"], "symbolize: missing FILE-AND-ADDRESSES" },
        { ["kvm", "run", "--mode", "protected", "g.bin"], "kvm run: --mode 'protected': give real or long" },
        { ["profile", "-F", "fast", "--all"], "profile: -F 'fast' is not a whole number" },
        { ["profile", "--all", "--for", "1s", "sleep"], "profile: unexpected argument 'sleep' (a command to run goes after '--'" },
        { ["profile", "--all", "--bogus"], "profile: unknown option '--bogus'" },
        { ["bpf", "run"], "bpf run: missing OBJECT" },
    };

    [Theory]
    [MemberData(nameof(UsageErrors))]
    public void UsageError_Exit64OneLineNamingItWithHelpHint(string[] args, string expected)
    {
        var (code, output, error) = Run(args);
        Assert.True(code == ExitCodes.Usage, $"exit {code}\n{error}");
        Assert.Equal("", output);
        string[] lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, "one line expected:\n" + error);
        Assert.StartsWith("[ERROR] ", lines[0], StringComparison.Ordinal);
        Assert.Contains(expected, lines[0], StringComparison.Ordinal);
        Assert.Matches(@"see 'kscope( [a-z-]+)* --help'$", lines[0]);
        Assert.DoesNotContain("System.", lines[0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new string[0], "Run 'kscope doctor' first")]
    [InlineData(new[] { "bpf" }, "Load, run and inspect eBPF objects")]
    [InlineData(new[] { "pprof" }, "Analyse pprof profiles")]
    public void CommandGroupAlone_PrintsItsHelpExit0(string[] args, string expected)
    {
        var (code, output, error) = Run(args);
        Assert.Equal(ExitCodes.Ok, code);
        Assert.Contains(expected, output, StringComparison.Ordinal);
        Assert.Contains("Commands:", output, StringComparison.Ordinal);
        Assert.Equal("", error);
    }

    [Fact]
    public void Help_WinsOverErrorsOnTheLine()
    {
        var (code, output, _) = Run("trace", "exec", "--bogus", "--help");
        Assert.Equal(ExitCodes.Ok, code);
        Assert.Contains("Ctrl-C", output, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", "Kernel")]
    public void TraceExec_WordsAfterDoubleDash_AreTheCommandsEvenOptionLike()
    {
        Requires.Root();
        var (code, output, error) = Run("trace", "exec", "--json", "--", "/bin/echo", "--bogus", "--pid", "x");
        Assert.True(code == ExitCodes.Ok, $"exit {code}\n{error}");
        Assert.Contains("\"args\":[\"/bin/echo\",\"--bogus\",\"--pid\",\"x\"]", output, StringComparison.Ordinal);
    }

    /// <summary>Runs through the real process: the shipped runtime configuration has no resource strings, so this is what users read.</summary>
    public static TheoryData<string[], int, string> AnticipatedFailures()
    {
        string dir = Path.GetTempPath().TrimEnd('/');
        return new()
        {
            { ["symbolize", "/nonexistent/x", "0x1"], ExitCodes.Error, "[ERROR] symbolize: open /nonexistent/x: no such file (ENOENT)" },
            { ["symbolize", dir, "0x1"], ExitCodes.Error, $"[ERROR] symbolize: open {dir}: is a directory (EISDIR)" },
            { ["symbolize", "/etc/hostname", "0x1"], ExitCodes.Error, "[ERROR] symbolize: /etc/hostname: not an ELF file" },
            { ["buildinfo", "/bin/true"], ExitCodes.Error, "[ERROR] buildinfo: /bin/true: not a Go binary" },
            { ["bpf", "objdump", dir], ExitCodes.Error, $"[ERROR] bpf objdump: open {dir}: is a directory (EISDIR)" },
            { ["kvm", "run", "/nonexistent/guest.bin"], ExitCodes.Error, "[ERROR] kvm run: open /nonexistent/guest.bin: no such file (ENOENT)" },
            { ["btf", "dump", "--file", "/nonexistent/vmlinux", "task_struct"], ExitCodes.Error, "[ERROR] btf: open /nonexistent/vmlinux: no such file (ENOENT)" },
            { ["btf", "verify", "/etc/passwd"], ExitCodes.Error, "[ERROR] btf verify: /etc/passwd: not a .NET assembly" },
            { ["pprof", "top", dir], ExitCodes.Error, $"[ERROR] pprof top: open {dir}: is a directory (EISDIR)" },
            { ["pprof", "top", "/etc/hostname", "--focus", "(main"], ExitCodes.Usage, "[ERROR] pprof top: --focus '(main': bad regular expression: insufficient closing parentheses at offset 5" },
            { ["pprof", "goroutines", "/etc/passwd"], ExitCodes.Error, "[ERROR] pprof goroutines: /etc/passwd: not a goroutine dump" },
            { ["pprof", "flame", "/etc/hostname", "-o", "out.png"], ExitCodes.Usage, "[ERROR] pprof flame: -o out.png: a flame graph is written as .svg (SVG) or .html" },
            // Checked before sampling for an hour: fails at once, or the deadline of the run fails the test.
            { ["profile", "--all", "--for", "1h", "-o", "/nonexistent/dir/p.pb.gz"], ExitCodes.Error, "[ERROR] profile: -o /nonexistent/dir/p.pb.gz: no such directory /nonexistent/dir (ENOENT)" },
            { ["profile", "--all", "--for", "1h", "--flame", "cpu.png"], ExitCodes.Usage, "[ERROR] profile: --flame cpu.png: a flame graph is written as .svg (SVG) or .html" },
        };
    }

    [Theory]
    [MemberData(nameof(AnticipatedFailures))]
    public void AnticipatedFailure_KscopesOwnOneLineNoResourceKeys(string[] args, int expectedCode, string expectedStart)
    {
        var (code, output, error) = KscopeProcess.RunWithin(TimeSpan.FromMinutes(2), args);
        Assert.True(code == expectedCode, $"exit {code}, expected {expectedCode}\n{output}\n{error}");
        string[] lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, "one line expected:\n" + error);
        Assert.StartsWith(expectedStart, lines[0], StringComparison.Ordinal);
        Assert.DoesNotMatch(ResourceKey(), lines[0]);
        Assert.DoesNotContain("System.", lines[0], StringComparison.Ordinal);
    }

    [Fact]
    public void PprofFlame_WrongExtension_NothingWritten()
    {
        using var dir = new TempDirectory("kscope-cli-");
        string png = dir["out.png"];
        var (code, _, _) = Run("pprof", "flame", Path.Combine(Tools.SharedTestData, "pprof", "large.cpu"), "-o", png);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.False(File.Exists(png));
    }

    [Fact]
    [Trait(KscopeCli.Mode, KscopeCli.InProcess)] // a library type, not a command
    public void FileChecks_Output_ExistingFileKeptNewFileNotLeftBehind()
    {
        using var dir = new TempDirectory("kscope-cli-");
        string existing = dir.Write("keep.txt", "content");
        FileChecks.Output("test", "-o", existing);
        Assert.Equal("content", File.ReadAllText(existing));
        string fresh = dir["new.pb.gz"];
        FileChecks.Output("test", "-o", fresh);
        Assert.False(File.Exists(fresh));
        var e = Assert.Throws<UsageException>(() => FileChecks.Output("test", "-o", dir.Path));
        Assert.Contains("is a directory (EISDIR)", e.Message, StringComparison.Ordinal);
    }

    /// <summary>What UseSystemResourceKeys leaves instead of a message: IO_FileNotFound_FileName, UnauthorizedAccess_IODenied_Path…</summary>
    [GeneratedRegex(@"\b[A-Z][A-Za-z0-9]+_[A-Za-z0-9_]+\b")]
    private static partial Regex ResourceKey();
}
