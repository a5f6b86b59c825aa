using Kscope.Cli.Infrastructure;
using Kscope.Diagnostics.Pprof;
using Kscope.Formats.Pprof;

namespace Kscope.Cli.Tests.Profiling;

/// <summary><c>kscope profile</c> on real processes: hot functions on top, and go tool pprof reads the result the same way.</summary>
public class ProfileCommandTests
{
    private static (int Code, string Out) Run(params string[] args)
    {
        var console = new StringConsole();
        int code = KscopeCli.Invoke(console, args);
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
            Profile p = ProfileReader.Read(File.ReadAllBytes(output));
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
            List<TopEntry> top = TopReport.Compute(StackSet.From(ProfileReader.Read(File.ReadAllBytes(output))));
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
    public void Profile_DotnetChildWithPerfMap_JitFramesNamedFromPerfMap()
    {
        Requires.Root();
        string dotnet = Requires.Tool("dotnet", "dotnet-sdk-10.0");
        // A real .NET child: this build's kscope.dll (IL only, so its methods are JIT-compiled) reading
        // the large shared profile; env makes it write /tmp/perf-PID.map and keeps the pid (exec).
        string kscopeDll = Path.Combine(AppContext.BaseDirectory, "kscope.dll");
        string large = Path.Combine(Tools.SharedTestData, "pprof", "internal", "proftest", "testdata", "large.cpu");
        string output = Path.Combine(Path.GetTempPath(), $"kscope-dotnet-{Environment.ProcessId}.pb.gz");
        var (code, text) = Run("profile", "-F", "999", "-o", output, "--", "env", "DOTNET_PerfMapEnabled=1", "DOTNET_ReadyToRun=0",
            dotnet, kscopeDll, "pprof", "diff", large, large, "-n", "1");
        int pid = int.Parse(System.Text.RegularExpressions.Regex.Match(text, @"samples of pid (\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        string map = $"/tmp/perf-{pid}.map";
        try
        {
            Assert.True(code is ExitCodes.Ok or ExitCodes.Warnings, text);
            Assert.True(File.Exists(map), $"the child wrote no {map}: {text}");
            var jitted = new HashSet<string>(File.ReadLines(map).Select(l => l.Split(' ', 3)).Where(f => f.Length == 3).Select(f => f[2]), StringComparer.Ordinal);
            Profile p = ProfileReader.Read(File.ReadAllBytes(output));
            List<string> named = p.Functions.Select(f => f.Name).Where(n => jitted.Contains(n) && n.Contains("[Kscope.", StringComparison.Ordinal)).ToList();
            Assert.True(named.Count > 0, $"no Kscope JIT frame from {map} in the profile; functions: {string.Join(" | ", p.Functions.Select(f => f.Name).Take(30))}");
        }
        finally
        {
            File.Delete(output);
            File.Delete(map);
            File.Delete($"/tmp/perfinfo-{pid}.map");
        }
    }

    [Fact]
    public void Profile_ProcessExecsAndDlopensWhileSampled_BothProgramsAndLibrarySymbolized()
    {
        Requires.Root();
        string gcc = Requires.Tool("gcc", "gcc");
        string dir = Path.Combine(Path.GetTempPath(), $"kscope-execdl-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        try
        {
            string source = Path.Combine(Tools.RepoRoot, "tests", "Kscope.Cli.Tests", "Profiling", "execdl.c");
            string stage1 = Path.Combine(dir, "stage1"), stage2 = Path.Combine(dir, "stage2"), lib = Path.Combine(dir, "libkscopespin.so");
            Tools.Check(gcc, "-O0", "-fno-omit-frame-pointer", "-DSTAGE=1", "-o", stage1, source);
            Tools.Check(gcc, "-O0", "-fno-omit-frame-pointer", "-DSTAGE=2", "-o", stage2, source, "-ldl");
            Tools.Check(gcc, "-O0", "-fno-omit-frame-pointer", "-DSTAGE=3", "-shared", "-fPIC", "-o", lib, source);
            string output = Path.Combine(dir, "execdl.pb.gz");
            // sh (stopped) -> exec stage1 (before_exec) -> exec stage2 -> dlopen lib (lib_spin) -> exit:
            // three address spaces under one pid, the last one gone when symbolization runs.
            var (code, text) = Run("profile", "-F", "499", "-o", output, "--", stage1, stage2, lib);
            Assert.True(code is ExitCodes.Ok or ExitCodes.Warnings, text);
            Profile p = ProfileReader.Read(File.ReadAllBytes(output));
            List<TopEntry> top = TopReport.Compute(StackSet.From(p));
            Assert.Contains(top.Take(3), e => e.Name == "before_exec");
            Assert.Contains(top.Take(3), e => e.Name == "lib_spin");
            Assert.Contains(p.Mappings, m => m.File == lib);
            Assert.Contains(p.Mappings, m => m.File == stage1);
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
        using var sleeper = System.Diagnostics.Process.Start("sleep", "3600")!;
        string output = Path.Combine(Path.GetTempPath(), $"kscope-exit-{Environment.ProcessId}.pb.gz");
        // A terminal console, so the command reports progress once it samples; --for is an hour: only the pid's exit ends it.
        var console = new StringConsole { IsTerminal = true };
        Task<int> run = Task.Run(() => Program.BuildRoot(console).Parse(["profile", "--pid", sleeper.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), "--for", "3600s", "-o", output]).Invoke());
        try
        {
            Poll.Until(() => run.IsCompleted || Snapshot(console.Error).Contains("samples", StringComparison.Ordinal), "profile --pid started sampling (progress on stderr)");
            Assert.False(run.IsCompleted, $"profile ended while pid {sleeper.Id} still ran: {console.OutText}{Snapshot(console.Error)}");
            sleeper.Kill();
            int code = Poll.Finished(run, $"profile --pid {sleeper.Id} --for 3600s ending after the pid exited");
            Assert.True(code is ExitCodes.Ok or ExitCodes.Warnings, console.OutText + console.ErrorText);
        }
        finally
        {
            if (!sleeper.HasExited)
            {
                sleeper.Kill();
            }
            File.Delete(output);
        }
    }

    /// <summary>What another thread wrote so far (StringWriter is not thread-safe: read under its lock-free retry).</summary>
    private static string Snapshot(TextWriter writer)
    {
        for (int i = 0; ; i++)
        {
            try
            {
                return writer.ToString() ?? "";
            }
            catch (ArgumentOutOfRangeException) when (i < 10)
            {
                // read while the sampler thread appended: read again
            }
        }
    }

    [Fact]
    public void Profile_Container_SamplesOnlyTheContainersProcesses()
    {
        // perf_event cgroups live on the unified hierarchy unless a v1 perf_event hierarchy is mounted; TestKit's
        // fixture shares system.slice with the other tests that make container-like cgroups.
        string id = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        using TempCgroup cg = TempCgroup.CreateV2($"system.slice/docker-{id}.scope");
        string dir = cg.Dir;
        using var inside = System.Diagnostics.Process.Start("/bin/sh", ["-c", "while :; do :; done"])!;
        using var outside = System.Diagnostics.Process.Start("/bin/sh", ["-c", "while :; do :; done"])!;
        string output = Path.Combine(Path.GetTempPath(), $"kscope-container-{Environment.ProcessId}.pb.gz");
        try
        {
            File.WriteAllText(Path.Combine(dir, "cgroup.procs"), inside.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            var (code, text) = Run("profile", "--container", id[..12], "--for", "1s", "-F", "199", "-o", output);
            Assert.True(code is ExitCodes.Ok or ExitCodes.Warnings, text);
            Assert.Contains("cgroup " + dir, text, StringComparison.Ordinal);
            Profile profile = ProfileReader.Read(File.ReadAllBytes(output));
            var pids = profile.Samples.SelectMany(s => s.Labels).Where(l => l.Key == "pid").Select(l => l.Num).ToHashSet();
            Assert.Contains((long)inside.Id, pids);
            Assert.DoesNotContain((long)outside.Id, pids);
        }
        finally
        {
            foreach (var p in new[] { inside, outside })
            {
                p.Kill(entireProcessTree: true);
                p.WaitForExit();
            }
            File.Delete(output);
        }
    }

    [Fact]
    public void Profile_OffCpu_SleepRecordedAsSecondSampleTypeWithStacks()
    {
        Requires.Root();
        string output = Path.Combine(Path.GetTempPath(), $"kscope-offcpu-{Environment.ProcessId}.pb.gz");
        try
        {
            var (code, text) = Run("profile", "--off-cpu", "-o", output, "--", "sh", "-c", "sleep 0.5; i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done");
            Assert.True(code is ExitCodes.Ok or ExitCodes.Warnings, text);
            Profile profile = ProfileReader.Read(File.ReadAllBytes(output));
            Assert.Equal(["samples", "cpu", "off_cpu"], profile.SampleTypes.Select(t => t.Type));
            Assert.Equal("cpu", profile.DefaultSampleType);
            var blocked = profile.Samples.Where(s => s.Values[2] > 0).ToList();
            Assert.True(blocked.Sum(s => s.Values[2]) >= 400_000_000, $"off-CPU total {blocked.Sum(s => s.Values[2])} ns for a 0.5 s sleep");
            Assert.Contains(blocked, s => s.Locations.SelectMany(l => l.Lines).Any(l => l.Function?.Name.Contains("schedule", StringComparison.Ordinal) == true));
            Assert.Contains(profile.Samples, s => s.Values[1] > 0); // the loop's CPU samples are there too
        }
        finally
        {
            File.Delete(output);
        }
    }

    [Fact]
    public void Profile_OffCpuWithoutPid_IsUsageError() =>
        Assert.Equal(ExitCodes.Usage, Run("profile", "--off-cpu", "--all", "--for", "1s").Code);
}
