using System.Text.Json;
using Kscope.Cli;
using Kscope.Cli.Infrastructure;
using Kscope.Kernel.Bpf;
using Kscope.Kernel.Tests.Bpf;

namespace Kscope.Cli.Tests.Bpf;

/// <summary>`kscope bpf run|load|probe|objdump` on objects compiled in the test, against the running kernel.</summary>
[Trait("Category", "Kernel")]
public class BpfCommandKernelTests
{
    private static (int Code, string Out, string Err) RunKscope(params string[] args)
    {
        var console = new StringConsole();
        int code = Program.BuildRoot(console).Parse(args).Invoke();
        return (code, console.Out.ToString()!, console.Error.ToString()!);
    }

    [Fact]
    public void Run_ObjectWithSocketProgram_AttachesTheOthersAndNamesWhatItDidNotAttach()
    {
        Requires.Root();
        string multi = BpfObjects.Test("multi");
        var (code, output, err) = RunKscope("bpf", "run", multi, "--for", "300ms");
        Assert.True(code == ExitCodes.Ok, err);
        Assert.Contains("# attached 3 program(s): raw_tracepoint sys_enter, raw_tracepoint sys_exit, tracepoint syscalls:sys_enter_getpid", output);
        Assert.Contains("# loaded, not attached: sock: section 'socket' (SocketFilter) has no automatic attach point", output);
        Assert.Contains("hits[", output);

        (code, output, err) = RunKscope("bpf", "run", multi, "--for", "300ms", "--json");
        Assert.True(code == ExitCodes.Ok, err);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var attached = lines.Where(l => l.GetProperty("kind").GetString() == "attached").ToList();
        Assert.Equal(["on_enter", "on_exit", "on_getpid"], attached.Select(l => l.GetProperty("program").GetString()!).Order());
        Assert.Contains(attached, l => l.GetProperty("link").GetString() == "tracepoint syscalls:sys_enter_getpid" && l.GetProperty("section").GetString() == "tracepoint/syscalls/sys_enter_getpid");
        JsonElement skipped = Assert.Single(lines, l => l.GetProperty("kind").GetString() == "not_attached");
        Assert.Equal("sock", skipped.GetProperty("program").GetString());
        Assert.Equal("socket", skipped.GetProperty("section").GetString());
        Assert.Contains("no automatic attach point", skipped.GetProperty("reason").GetString());
        Assert.Contains(lines, l => l.GetProperty("kind").GetString() == "map" && l.GetProperty("map").GetString() == "hits");

        (code, output, err) = RunKscope("bpf", "run", multi, "--program", "sock", "--for", "100ms");
        Assert.True(code == ExitCodes.Ok, err);
        Assert.Contains("# attached 0 program(s)", output);
        Assert.Contains("# loaded, not attached: sock:", output);
    }

    [Fact]
    public void Run_UprobeAndPerfEventSections_AttachByName()
    {
        Requires.Root();
        string obj = BpfObjects.AttachAll();
        var (code, output, err) = RunKscope("bpf", "run", obj, "--program", "on_uprobe", "--program", "on_perf_event", "--for", "300ms");
        Assert.True(code == ExitCodes.Ok, err);
        Assert.Contains($"uprobe {UprobeTarget.SectionCopy()}:kscope_target", output);
        Assert.Contains($"perf_event cpu-clock {Attach.DefaultSamplingFrequency} Hz on every CPU", output);
    }

    [Fact]
    public void LoadAndRun_TracingPrograms_LoadOrExitUnsupported()
    {
        Requires.Root();
        string obj = BpfObjects.AttachAll();
        bool tracing = Features.HasProgramType(ProgramType.Tracing) == FeatureStatus.Present;
        bool lsm = Features.HasProgramType(ProgramType.Lsm) == FeatureStatus.Present;
        var (code, output, err) = RunKscope("bpf", "load", obj);
        if (tracing && lsm)
        {
            Assert.True(code == ExitCodes.Ok, err);
            Assert.Contains("on_fentry", output);
            Assert.Contains("on_lsm", output);
        }
        else
        {
            Assert.Equal(ExitCodes.Unsupported, code);
            Assert.StartsWith("[ERROR] load ", err);
            Assert.Contains("not supported by this kernel", err);
            Assert.Contains(tracing ? "lsm program 'on_lsm'" : "fentry program 'on_fentry'", err);
            Assert.Equal("", output);
        }

        (code, output, err) = RunKscope("bpf", "run", obj, "--program", "on_fentry", "--for", "200ms");
        if (tracing)
        {
            Assert.True(code == ExitCodes.Ok, err);
            Assert.Contains("# attached 1 program(s): fentry 'do_sys_openat2'", output);
        }
        else
        {
            Assert.Equal(ExitCodes.Unsupported, code);
            Assert.StartsWith("[ERROR] load fentry program 'on_fentry' (fentry/do_sys_openat2): ", err);
            Assert.Contains("not supported by this kernel", err);
        }

        (code, output, err) = RunKscope("bpf", "run", obj, "--program", "on_kprobe", "--for", "200ms");
        if (Features.KprobePmu() == FeatureStatus.Present)
        {
            Assert.True(code == ExitCodes.Ok, err);
            Assert.Contains("# attached 1 program(s): kprobe 'do_sys_openat2'", output);
        }
        else
        {
            Assert.Equal(ExitCodes.Unsupported, code);
            Assert.StartsWith("[ERROR] attach kprobe 'do_sys_openat2': ", err);
            Assert.Contains("not supported by this kernel", err);
        }
    }

    [Fact]
    public void Load_Json_NamesTypesSizesAndPins()
    {
        Requires.Root();
        string multi = BpfObjects.Test("multi");
        var (code, output, err) = RunKscope("bpf", "load", multi, "--json");
        Assert.True(code == ExitCodes.Ok, err);
        using (JsonDocument d = JsonDocument.Parse(output))
        {
            var programs = d.RootElement.EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!);
            Assert.Equal(["on_enter", "on_exit", "on_getpid", "sock"], programs.Keys.Order());
            Assert.Equal("raw_tracepoint", programs["on_enter"].GetProperty("type").GetString());
            Assert.Equal("tracepoint", programs["on_getpid"].GetProperty("type").GetString());
            Assert.Equal("socket_filter", programs["sock"].GetProperty("type").GetString());
            Assert.All(programs.Values, p =>
            {
                Assert.True(p.GetProperty("id").GetUInt32() > 0);
                Assert.True(p.GetProperty("bytes_xlated").GetUInt32() > 0);
                Assert.True(p.GetProperty("bytes_jited").GetUInt32() > 0);
                Assert.True(p.GetProperty("verified_insns").GetUInt32() > 0);
                Assert.False(p.TryGetProperty("pinned", out _));
            });
        }

        string dir = $"/sys/fs/bpf/kscope_cli_pin_{Environment.ProcessId}";
        try
        {
            (code, output, err) = RunKscope("bpf", "load", multi, "--pin", dir);
            Assert.True(code == ExitCodes.Ok, err);
            Assert.Contains("PROGRAM", output);
            foreach (string name in new[] { "on_enter", "on_exit", "on_getpid", "sock" })
            {
                Assert.Contains($"{dir}/{name}", output);
                using Kscope.Kernel.Bpf.Program pinned = Kscope.Kernel.Bpf.Program.FromPin(Path.Combine(dir, name));
                Assert.Equal(name.Length > 15 ? name[..15] : name, pinned.Name);
            }
        }
        finally
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    [Fact]
    public void Probe_Json_AgreesWithTheFeatureProbes()
    {
        Requires.Root();
        var (code, output, err) = RunKscope("bpf", "probe", "--json", "--no-helpers");
        Assert.True(code == ExitCodes.Ok, err);
        using JsonDocument d = JsonDocument.Parse(output);
        JsonElement programs = d.RootElement.GetProperty("program_types");
        Assert.Equal("present", programs.GetProperty("tracepoint").GetString());
        Assert.Equal("present", programs.GetProperty("perf_event").GetString());
        Assert.Equal(Features.HasProgramType(ProgramType.Tracing) == FeatureStatus.Present ? "present" : "absent", programs.GetProperty("tracing").GetString());
        Assert.Equal("present", d.RootElement.GetProperty("map_types").GetProperty("ringbuf").GetString());
        JsonElement attach = d.RootElement.GetProperty("attach_types");
        Assert.Equal(Features.KprobePmu() == FeatureStatus.Present ? "present" : "absent", attach.GetProperty("kprobe/kretprobe (kprobe PMU)").GetString());
        Assert.Equal("present", attach.GetProperty("uprobe/uretprobe (uprobe PMU)").GetString());
        Assert.Empty(d.RootElement.GetProperty("helpers").EnumerateObject());
    }

    [Fact]
    public void Objdump_Json_MapsProgramsAndCoReRelocations()
    {
        string hello = BpfObjects.Example("hello");
        var (code, output, err) = RunKscope("bpf", "objdump", hello, "--json");
        Assert.True(code == ExitCodes.Ok, err);
        using JsonDocument d = JsonDocument.Parse(output);
        Assert.Equal("GPL", d.RootElement.GetProperty("license").GetString());
        var maps = d.RootElement.GetProperty("maps").EnumerateArray().ToDictionary(m => m.GetProperty("name").GetString()!);
        Assert.Equal("RingBuf", maps["events"].GetProperty("type").GetString());
        Assert.Equal(65536u, maps["events"].GetProperty("max_entries").GetUInt32());
        Assert.Equal(4u, maps["opens_by_tgid"].GetProperty("key_size").GetUInt32());
        JsonElement program = Assert.Single(d.RootElement.GetProperty("programs").EnumerateArray());
        Assert.Equal("count_openat", program.GetProperty("name").GetString());
        Assert.Equal("tracepoint/syscalls/sys_enter_openat", program.GetProperty("section").GetString());
        Assert.Contains(program.GetProperty("core_relocations").EnumerateArray(), r => r.GetString()!.Contains("FieldByteOffset struct task_struct ->tgid (0:1)", StringComparison.Ordinal));
        Assert.Contains(program.GetProperty("disassembly").EnumerateArray(), i => i.GetString()!.Contains("call bpf_ringbuf_reserve#131", StringComparison.Ordinal));
    }
}
