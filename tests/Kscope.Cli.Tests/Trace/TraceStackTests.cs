using System.Text.Json;
using Kscope.Cli.Infrastructure;
using Kscope.Cli.Tests.Pprof;
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
        int code = Program.BuildRoot(console).Parse(["trace", .. args]).Invoke();
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

    [Fact]
    public void UserFrames_OwnProcess_NamesALibcFunctionAndFallsBackToModuleOffset()
    {
        UserFrames frames = UserFrames.Of(Environment.ProcessId)!;
        Assert.NotNull(frames);
        var libc = Kscope.Kernel.Host.Procfs.Maps(Environment.ProcessId).First(m => m.IsExecutable && Path.GetFileName(m.Path).StartsWith("libc.so", StringComparison.Ordinal));
        var elf = Kscope.Formats.Elf.ElfFile.Load(libc.Path);
        var getpid = elf.DynamicSymbols.First(s => s.Name == "getpid" && s.Value != 0);
        Assert.True(elf.TryGetFileOffset(getpid.Value, out ulong fileOffset), "getpid's file offset");
        ulong address = libc.Start + fileOffset - libc.Offset;
        string module = System.Text.RegularExpressions.Regex.Escape($"[{Path.GetFileName(libc.Path)}]");
        Assert.Matches($@"^(__)?getpid {module}$", frames.Resolve(address)); // aliases share the address
        Assert.Matches($@"^(__)?getpid\+0x4 {module}$", frames.Resolve(address + 4, leaf: false));
        Assert.Equal("0x10", frames.Resolve(0x10));
    }
}
