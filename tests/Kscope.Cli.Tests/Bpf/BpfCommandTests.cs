using Kscope.Cli;
using Kscope.Cli.Infrastructure;

namespace Kscope.Cli.Tests.Bpf;

public class BpfCommandTests
{
    private static string Hello => Path.Combine(Tools.RepoRoot, "bpf", "examples", "hello.bpf.o");

    [Fact]
    public void Objdump_Example_ShowsMapsCoReAndDisassembly()
    {
        var console = new StringConsole();
        int code = Program.BuildRoot(console).Parse(["bpf", "objdump", Hello]).Invoke();
        string output = console.Out.ToString()!;
        Assert.Equal(0, code);
        Assert.Contains("events               RingBuf", output);
        Assert.Contains("FieldByteOffset struct task_struct ->tgid (0:1)", output);
        Assert.Contains("call parent_tgid", output);
        Assert.Contains("call bpf_ringbuf_reserve#131", output);
    }

    [Fact]
    public void Run_Example_PrintsDecodedRecordsAndMaps()
    {
        Requires.Root();
        var console = new StringConsole();
        int code = Program.BuildRoot(console).Parse(["bpf", "run", Hello, "--for", "1s", "--record", "event"]).Invoke();
        string output = console.Out.ToString()!;
        Assert.True(code == 0, console.Error.ToString());
        Assert.Contains("events: {pid=", output);
        Assert.Contains(".bss: total_opens=", output);
        Assert.Contains("opens_by_tgid[", output);
    }

    [Fact]
    public void Run_NotAnObject_IsOneLineError()
    {
        var console = new StringConsole();
        int code = Program.BuildRoot(console).Parse(["bpf", "objdump", "/proc/self/status"]).Invoke();
        Assert.Equal(ExitCodes.Error, code);
        Assert.StartsWith("[ERROR] ", console.Error.ToString());
    }
}
