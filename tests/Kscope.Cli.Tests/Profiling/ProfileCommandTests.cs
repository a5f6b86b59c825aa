using Kscope.Cli.Infrastructure;
using Kscope.Cli.Tests.Pprof;
using Kscope.Diagnostics.Pprof;
using Kscope.Formats.Pprof;

namespace Kscope.Cli.Tests.Profiling;

/// <summary><c>kscope profile</c> on real processes: hot functions on top, and go tool pprof reads the result the same way.</summary>
public class ProfileCommandTests
{
    private static (int Code, string Out) Run(params string[] args)
    {
        var console = new StringConsole();
        int code = Program.BuildRoot(console).Parse(args).Invoke();
        return (code, console.OutText + console.ErrorText);
    }

    [Fact]
    public void Profile_GoProgramNormalAndStripped_HotFunctionsOnTopWithLines()
    {
        Requires.Root();
        foreach (string binary in new[] { GoProgram.Exe, GoProgram.Stripped })
        {
            string output = Path.Combine(GoProgram.Dir, Path.GetFileName(binary) + ".pb.gz");
            var (code, text) = Run("profile", "-F", "499", "-o", output, "--", binary, "-for", "3s");
            Assert.True(code is ExitCodes.Ok or ExitCodes.Warnings, text);
            Profile p = ProfileReader.ReadFile(output);
            List<TopEntry> top = TopReport.Compute(StackSet.From(p));
            Assert.True(top.Count > 0, text);
            Assert.Equal("main.hotInner", top[0].Name);
            Assert.Contains(top.Take(3), e => e.Name == "main.coldLoop");
            Assert.Contains(p.Functions, f => f.Name == "main.hotInner" && f.FileName.EndsWith("main.go", StringComparison.Ordinal));
            Assert.Contains(p.Locations, l => l.Lines.Any(x => x.Function?.Name == "main.hotInner" && x.Number > 0));
            // Differential: go tool pprof reads our file and agrees on the top function.
            List<GoPprofTop.Row> go = GoPprofTop.Run(output, 5);
            Assert.Equal("main.hotInner", go[0].Name);
            Assert.True(Math.Abs(go[0].Flat - top[0].Flat) <= go[0].FlatTolerance);
        }
    }

    [Fact]
    [Trait("Category", "Kernel")] // perf_event_open sampling and frame-pointer unwinding on each kernel
    public void Profile_CProgramWithFramePointers_HotFunctionsOnTop()
    {
        Requires.Root();
        string gcc = Requires.Tool("gcc", "gcc");
        string dir = Path.Combine(Path.GetTempPath(), $"kscope-cprog-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        try
        {
            string exe = Path.Combine(dir, "hot");
            Tools.Check(gcc, "-O0", "-fno-omit-frame-pointer", "-o", exe, Path.Combine(Tools.RepoRoot, "tests", "Kscope.Cli.Tests", "Profiling", "hot.c"));
            string output = Path.Combine(dir, "c.pb.gz");
            var (code, text) = Run("profile", "-F", "499", "-o", output, "--", exe, "3");
            Assert.True(code is ExitCodes.Ok or ExitCodes.Warnings, text);
            List<TopEntry> top = TopReport.Compute(StackSet.From(ProfileReader.ReadFile(output)));
            Assert.Equal("hot_inner", top[0].Name);
            TopEntry main = top.Single(e => e.Name == "main");
            Assert.True(main.Cum >= top[0].Flat, "frame-pointer unwinding should put main under hot_inner");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Profile_BadArguments_UsageErrors()
    {
        Assert.Equal(ExitCodes.Usage, Run("profile").Code);
        Assert.Equal(ExitCodes.Usage, Run("profile", "--pid", "1", "--all").Code);
        Assert.Equal(ExitCodes.Usage, Run("profile", "--pid", "1", "--for", "soon").Code);
        Assert.Equal(ExitCodes.Usage, Run("profile", "--", "/nonexistent/kscope-no-such-command").Code);
        Assert.Equal(ExitCodes.Usage, Run("profile", "--", "kscope-no-such-command-on-path").Code);
    }

    [Fact]
    public void Profile_PidExits_StopsBeforeForEnds()
    {
        Requires.Root();
        using var sleeper = System.Diagnostics.Process.Start("sleep", "1")!;
        string output = Path.Combine(Path.GetTempPath(), $"kscope-exit-{Environment.ProcessId}.pb.gz");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (code, text) = Run("profile", "--pid", sleeper.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), "--for", "60s", "-o", output);
        File.Delete(output);
        Assert.True(code is ExitCodes.Ok or ExitCodes.Warnings, text);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"sampling went on {clock.Elapsed} after pid exited: {text}");
    }
}
