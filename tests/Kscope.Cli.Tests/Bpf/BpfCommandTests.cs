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
        int code = KscopeCli.Invoke(console, ["bpf", "objdump", Hello]);
        string output = console.Out.ToString()!;
        Assert.Equal(0, code);
        Assert.Contains("events               RingBuf", output);
        Assert.Contains("FieldByteOffset struct task_struct ->tgid (0:1)", output);
        Assert.Contains("call parent_tgid", output);
        Assert.Contains("call bpf_ringbuf_reserve#131", output);
    }

    [Fact]
    public async Task Run_Example_PrintsDecodedRecordsAndMaps()
    {
        Requires.Root();
        var console = new StringConsole();
        Task<int> run = KscopeCli.InvokeAsync(console, ["bpf", "run", Hello, "--for", "2s", "--record", "event"]);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!run.IsCompleted && DateTime.UtcNow < deadline)
        {
            File.ReadAllBytes("/proc/self/stat"); // openat while the example's tracepoint is attached (a quiet machine opens nothing)
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
        int code = await run;
        string output = console.Out.ToString()!;
        Assert.True(code == 0, console.Error.ToString());
        Assert.Contains("events: {pid=", output);
        Assert.Contains(".bss: total_opens=", output);
        Assert.Contains("opens_by_tgid[", output);
    }

    private static string Execsnoop
    {
        get
        {
            const string path = "/usr/sbin/execsnoop";
            if (!File.Exists(path))
            {
                Requires.Unmet("libbpf-tools is not installed (apt-get install libbpf-tools; .ci/install-deps does)");
            }
            return path;
        }
    }

    [Fact]
    public async Task Run_LibbpfToolsExecsnoop_RecordsAnExecOfTrue()
    {
        Requires.Root();
        var console = new StringConsole();
        Task<int> run = KscopeCli.InvokeAsync(console, ["bpf", "run", Execsnoop, "--record", "event", "--for", "3s"]);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!run.IsCompleted && DateTime.UtcNow < deadline)
        {
            Tools.Check("/bin/true"); // exec'd while execsnoop's tracepoints are attached
            await Task.Delay(200, TestContext.Current.CancellationToken);
        }
        int code = await run;
        string output = console.Out.ToString()!;
        Assert.True(code == 0, console.Error.ToString());
        Assert.Contains("# object embedded in /usr/sbin/execsnoop at offset 0x", output);
        Assert.Contains("tracepoint syscalls:sys_enter_execve, tracepoint syscalls:sys_exit_execve", output);
        // struct event of libbpf-tools' execsnoop.h, decoded from the object's BTF; args is sent partially
        Assert.Matches(@"events cpu\d+: \{pid=\d+, ppid=\d+, uid=0, retval=0, args_count=1, args_size=10, comm=""true"", args=""/bin/true""\}", output);
    }

    [Fact]
    public void Objdump_ExecutableEmbeddingAnObject_DumpsTheObject()
    {
        var console = new StringConsole();
        int code = KscopeCli.Invoke(console, ["bpf", "objdump", Execsnoop]);
        string output = console.Out.ToString()!;
        Assert.True(code == 0, console.Error.ToString());
        Assert.StartsWith("/usr/sbin/execsnoop: eBPF object embedded in /usr/sbin/execsnoop at offset 0x", output);
        Assert.Contains("tracepoint/syscalls/sys_enter_execve", output);
        Assert.Contains("PerfEventArray", output);
    }

    [Fact]
    public void Objdump_ExecutableWithoutObject_SaysItEmbedsNone()
    {
        var console = new StringConsole();
        int code = KscopeCli.Invoke(console, ["bpf", "objdump", "/bin/true"]);
        Assert.Equal(ExitCodes.Error, code);
        Assert.StartsWith("[ERROR] ", console.Error.ToString());
        Assert.Contains("embeds no eBPF object", console.Error.ToString());
    }

    [Fact]
    public void Run_NotAnObject_IsOneLineError()
    {
        var console = new StringConsole();
        int code = KscopeCli.Invoke(console, ["bpf", "objdump", "/proc/self/status"]);
        Assert.Equal(ExitCodes.Error, code);
        Assert.StartsWith("[ERROR] ", console.Error.ToString());
    }
}
