using Kscope.Diagnostics.Trace;
using Kscope.Formats.Elf;
using Kscope.TestKit;

namespace Kscope.Diagnostics.Tests.Trace;

public sealed class GadgetObjectsTests
{
    private const ushort EmBpf = 247;

    public static TheoryData<string, string[]> Programs => new()
    {
        { "exec", ["raw_tracepoint/sys_enter", "raw_tracepoint/sys_exit"] },
        { "open", ["raw_tracepoint/sys_enter", "raw_tracepoint/sys_exit"] },
        { "syscalls", ["raw_tracepoint/sys_enter", "raw_tracepoint/sys_exit", "raw_tracepoint/sched_process_exit"] },
        { "offcpu", ["tracepoint/sched/sched_switch", "tracepoint/sched/sched_wakeup"] },
        { "futex", ["raw_tracepoint/sys_enter", "raw_tracepoint/sys_exit"] },
        { "runqlat", ["raw_tracepoint/sched_switch", "raw_tracepoint/sched_wakeup", "raw_tracepoint/sched_wakeup_new"] },
        { "tcp", ["tracepoint/sock/inet_sock_set_state", "tracepoint/tcp/tcp_retransmit_skb", "raw_tracepoint/sys_exit"] },
        { "oom", ["tracepoint/oom/mark_victim"] },
        { "signal", ["raw_tracepoint/signal_generate", "tracepoint/signal/signal_deliver"] },
    };

    /// <summary>filter.h's programs, in every object: fork and exec following, v1 cgroup joins.</summary>
    private static readonly string[] s_filterPrograms = ["raw_tracepoint/sched_process_fork", "raw_tracepoint/sched_process_exec", "raw_tracepoint/cgroup_attach_task"];

    [Fact]
    public void Names_EveryGadgetSource_IsEmbedded()
    {
        string[] sources = Directory.GetFiles(Path.Combine(Tools.RepoRoot, "bpf", "gadgets"), "*.bpf.c")
            .Select(p => Path.GetFileName(p)[..^".bpf.c".Length]).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(sources, GadgetObjects.Names);
    }

    [Theory]
    [MemberData(nameof(Programs))]
    public void Load_Gadget_IsBpfElfWithBtfProgramsAndFilters(string gadget, string[] sections)
    {
        ElfFile elf = ElfFile.Parse(GadgetObjects.Load(gadget));

        Assert.Equal(EmBpf, elf.Machine);
        Assert.NotNull(elf.GetSection(".BTF"));
        Assert.NotNull(elf.GetSection(".BTF.ext"));
        Assert.NotNull(elf.GetSection(".maps"));
        Assert.NotNull(elf.GetSection(".rodata"));
        Assert.Equal("GPL\0", System.Text.Encoding.ASCII.GetString(elf.GetSectionData("license")!.Value.Span));
        foreach (string section in sections.Concat(s_filterPrograms))
        {
            Assert.True(elf.GetSection(section) is not null, $"{gadget}: no program section {section}");
        }
        string[] symbols = elf.Symbols.Select(s => s.Name).ToArray();
        Assert.Contains("pids", symbols);
        Assert.Contains("filter_pids", symbols);
        Assert.Contains("filter_cgroup", symbols);
    }

    [Fact]
    public void Load_UnknownGadget_NamesTheKnownOnes()
    {
        ArgumentException e = Assert.Throws<ArgumentException>(() => GadgetObjects.Load("nope"));
        Assert.Contains("exec", e.Message);
    }

    /// <summary>Oracle: libbpf (through bpftool) loads every embedded gadget on this kernel (CO-RE + verifier).</summary>
    [Theory]
    [Trait("Category", "Kernel")]
    [MemberData(nameof(Programs))]
    public void Load_Gadget_PassesTheVerifierUnderBpftool(string gadget, string[] sections)
    {
        Requires.Root();
        string bpftool = Requires.Tool("bpftool", "bpftool");
        if (!Directory.Exists("/sys/fs/bpf") || !File.ReadAllText("/proc/self/mounts").Contains(" /sys/fs/bpf bpf ", StringComparison.Ordinal))
        {
            Kscope.Native.Posix.Mount("bpf", "/sys/fs/bpf", "bpf");
        }
        string dir = Path.Combine(Path.GetTempPath(), $"kscope-gadget-{gadget}-{Environment.ProcessId}");
        string obj = dir + ".o";
        string pin = $"/sys/fs/bpf/kscope_test_{gadget}_{Environment.ProcessId}";
        File.WriteAllBytes(obj, GadgetObjects.Load(gadget));
        try
        {
            (int code, string output, string error) = Tools.Run(bpftool, "prog", "loadall", obj, pin);
            Assert.True(code == 0, $"bpftool prog loadall {gadget}: {output}{error}");
            string[] pinned = Directory.GetFiles(pin).Select(Path.GetFileName).ToArray()!;
            Assert.Equal(sections.Length + s_filterPrograms.Length, pinned.Length);
        }
        finally
        {
            File.Delete(obj);
            if (Directory.Exists(pin))
            {
                Directory.Delete(pin, recursive: true);
            }
        }
    }
}
