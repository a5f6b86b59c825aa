using System.Text.Json;
using Kscope.Cli.Infrastructure;
using Kscope.Diagnostics.Symbols;
using Kscope.TestKit;

namespace Kscope.Cli.Tests.Trace;

/// <summary>
/// User frames of offcpu/futex stacks get function names from the profiler's symbolizer (ELF .symtab
/// or .dynsym, Go pclntab), even though the traced command has exited when the stacks are printed.
/// </summary>
public sealed class TraceStackTests
{
    private static List<JsonElement> Rows(params string[] args)
    {
        Requires.Root();
        var console = new StringConsole();
        int code = KscopeCli.Invoke(console, ["trace", .. args]);
        Assert.True(code == ExitCodes.Ok, $"exit {code}: {console.ErrorText}");
        return console.OutText.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone())
            .Where(l => l.GetProperty("type").GetString() == "total").ToList();
    }

    [Fact]
    [Trait("Category", "Kernel")]
    public void OffCpu_SleepCommand_UserLeafIsLibcNanosleep()
    {
        var rows = Rows("offcpu", "--json", "--slow", "100ms", "--", "sleep", "1.5"); // long enough for a maps snapshot after exec in a slow QEMU guest
        JsonElement row = rows.Single(r => r.GetProperty("comm").GetString() == "sleep");
        string[] user = row.GetProperty("user_stack").EnumerateArray().Select(f => f.GetString()!).ToArray();
        Assert.NotEmpty(user);
        // sleep(1) blocks in glibc's clock_nanosleep (exported in .dynsym), called from the sleep binary
        Assert.Matches(@"^(__)?clock_nanosleep[\w@.]*\+0x[0-9a-f]+ \[libc[\w.-]*\.so[\w.]*\]$", user[0]);
    }

    [Fact]
    [Trait("Category", "Kernel")]
    public void Futex_GoProgram_FramesNamedFromPclntab()
    {
        string exe = GoProgram.Exe;
        var rows = Rows("futex", "--json", "--", exe, "-for", "1s");
        string module = $"[{Path.GetFileName(exe)}]";
        var frames = rows.SelectMany(r => r.GetProperty("user_stack").EnumerateArray().Select(f => f.GetString()!)).ToList();
        // Go's runtime waits on futexes itself (idle Ms, GC workers): runtime.futex <- runtime.notesleep <- runtime.stopm
        Assert.Contains(frames, f => f.StartsWith("runtime.futex ", StringComparison.Ordinal) && f.EndsWith(module, StringComparison.Ordinal));
        Assert.Contains(frames, f => f.StartsWith("runtime.notesleep ", StringComparison.Ordinal) && f.Contains(".go:", StringComparison.Ordinal));
        Assert.DoesNotContain(frames, f => f.StartsWith(Path.GetFileName(exe) + "+0x", StringComparison.Ordinal));
    }

    private static readonly Lazy<string> s_shortLived = new(() =>
    {
        string exe = Path.Combine(TempDirectory.ForProcess("kscope-shortlived"), "shortlived");
        Tools.Check("gcc", "-O1", "-g", "-fno-omit-frame-pointer", "-Wall", "-Werror", "-o", exe,
            Path.Combine(Tools.RepoRoot, "tests", "Kscope.Cli.Tests", "Trace", "shortlived.c"));
        return exe;
    });

    /// <summary>
    /// A running parent (started before the trace) forks children that live about 20 ms: each blocks once
    /// and exits, long before the periodic maps snapshot comes round (the trace filters on comm, so only
    /// processes with rows are snapshotted, every 500 ms). The gadget asks for their mappings while they block
    /// (bpf/gadgets/maps_requests.h): their stacks come out named, fork-only children (the parent's address
    /// space copied) and exec'd ones (a new address space) alike.
    /// </summary>
    [Theory]
    [InlineData("fork")]
    [InlineData("exec")]
    [Trait("Category", "Kernel")]
    public void OffCpu_ShortLivedChildrenOfARunningParent_StacksSymbolized(string mode)
    {
        Requires.Root();
        Requires.Tool("gcc", "gcc");
        string exe = s_shortLived.Value;
        var psi = new System.Diagnostics.ProcessStartInfo(exe, mode) { RedirectStandardOutput = true, UseShellExecute = false };
        using var parent = System.Diagnostics.Process.Start(psi)!;
        try
        {
            Assert.Equal("ready", parent.StandardOutput.ReadLine());
            string Frames(JsonElement r) => string.Join(" | ", r.GetProperty("user_stack").EnumerateArray().Select(f => f.GetString()));
            // how many children kscope reads in time depends on how soon the loaded machine schedules it (within a
            // child's 15 ms block): traced again, each time attaching anew, until children are named (or 10 traces)
            var seen = new List<string>();
            for (int attempt = 0; attempt < 10; attempt++)
            {
                var rows = Rows("offcpu", "--json", "--slow", "5ms", "--comm", "shortlived", "--for", "3s");
                var children = rows.Where(r => r.GetProperty("pid").GetInt32() != parent.Id).ToList();
                // the block in kscope_child_blocks (its callee wait_once keeps no frame of its own under poll)
                var named = children.Where(r => r.GetProperty("user_stack").EnumerateArray()
                    .Any(f => f.GetString()!.StartsWith("kscope_child_blocks+0x", StringComparison.Ordinal) && f.GetString()!.EndsWith("[shortlived]", StringComparison.Ordinal))).ToList();
                Console.WriteLine($"{mode}: {named.Count} of {children.Count} children's stacks named (load {File.ReadAllText("/proc/loadavg").Trim()})");
                seen.AddRange(children.Select(Frames));
                const string PollInLibc = @"^(__)?poll[\w@.]*\+0x[0-9a-f]+ \[libc[\w.-]*\.so[\w.]*\]$";
                if (mode == "fork")
                {
                    Assert.All(named, r => Assert.Matches(PollInLibc, r.GetProperty("user_stack")[0].GetString()));
                }
                else
                {
                    // An exec'd child's maps are read at its first block in the new address space; when that block
                    // comes before ld.so has mapped libc (seen in the 6.1 guest: 19 of 28), its libc frames stay bare
                    // (docs/trace.md). Its own binary's frames are named either way; a named leaf is libc's poll.
                    Assert.All(named, r => Assert.Matches($"{PollInLibc}|^0x[0-9a-f]+$", r.GetProperty("user_stack")[0].GetString()));
                }
                if (named.Count > 0 && children.Count >= 3)
                {
                    return;
                }
            }
            Assert.Fail($"no child's stack named in 10 traces:\n{string.Join('\n', seen)}");
        }
        finally
        {
            parent.Kill();
            parent.WaitForExit();
        }
    }

    /// <summary>--top N prints the N largest totals and counts the others (text line, JSON summary); --top -1 is a usage error.</summary>
    [Fact]
    [Trait("Category", "Kernel")]
    public void OffCpu_Top1_OneRowAndTheOthersCounted()
    {
        Requires.Root();
        var console = new StringConsole();
        // the shell waits for each sleep (one row), each sleep blocks in its own process (two more rows)
        int code = KscopeCli.Invoke(console, ["trace", "offcpu", "--json", "--slow", "0", "--top", "1", "--", "/bin/sh", "-c", "/bin/sleep 0.05; /bin/sleep 0.05"]);
        Assert.True(code == ExitCodes.Ok, $"exit {code}: {console.ErrorText}");
        var lines = console.OutText.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
        Assert.Single(lines, l => l.GetProperty("type").GetString() == "total");
        JsonElement summary = lines[^1];
        Assert.Equal("summary", summary.GetProperty("type").GetString());
        Assert.True(summary.GetProperty("rows_not_shown").GetInt64() >= 2, summary.GetRawText());
        Assert.Equal(0, summary.GetProperty("maps_dropped").GetInt64());
        Assert.Equal(ExitCodes.Usage, KscopeCli.Invoke(new StringConsole(), ["trace", "offcpu", "--top", "-1", "--for", "1s"]));
    }

    [Fact]
    public void UserFrames_OwnProcess_NamesALibcFunctionAndFallsBackToModuleOffset()
    {
        UserFrames frames = UserFrames.Of(Environment.ProcessId)!;
        Assert.NotNull(frames);
        var libc = Kscope.Kernel.Host.Procfs.Maps(Environment.ProcessId).First(m => m.IsExecutable && Path.GetFileName(m.Path).StartsWith("libc.so", StringComparison.Ordinal));
        var elf = Kscope.Formats.Elf.ElfFile.Parse(File.ReadAllBytes(libc.Path));
        var getpid = elf.DynamicSymbols.First(s => s.Name == "getpid" && s.Value != 0);
        Assert.True(elf.TryGetFileOffset(getpid.Value, out ulong fileOffset), "getpid's file offset");
        ulong address = libc.Start + fileOffset - libc.Offset;
        string module = System.Text.RegularExpressions.Regex.Escape($"[{Path.GetFileName(libc.Path)}]");
        Assert.Matches($@"^(__)?getpid {module}$", frames.Resolve(address)); // aliases share the address
        Assert.Matches($@"^(__)?getpid\+0x4 {module}$", frames.Resolve(address + 4, leaf: false));
        Assert.Equal("0x10", frames.Resolve(0x10));
    }
}
