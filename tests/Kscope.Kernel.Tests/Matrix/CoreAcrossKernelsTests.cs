using System.Text.RegularExpressions;
using Kscope.Kernel.Bpf;
using Kscope.Kernel.Bpf.Loader;
using Kscope.Kernel.Btf;
using Kscope.Kernel.Tests.Bpf;

namespace Kscope.Kernel.Tests.Matrix;

/// <summary>
/// CO-RE against each kernel's own BTF: task_struct's pid, tgid and real_parent move on every kernel
/// (pid at 2232 on 5.10, 2416 on 6.1, 2432 on 6.12, 1264 on the 6.18 host). One object, compiled once
/// with them at 0, 4 and 8, runs on each: the offsets kscope's relocator resolved must be pahole's for
/// the running kernel's /sys/kernel/btf/vmlinux, and the values read through them must be what the
/// bpf_get_current_pid_tgid() helper and /proc say.
/// </summary>
[Trait("Category", "Kernel")]
public partial class CoreAcrossKernelsTests(ITestOutputHelper output)
{
    [GeneratedRegex(@"^\s*(?<type>.+?)\s+(?<name>\w+);\s*/\*\s*(?<offset>\d+)\s+(?<size>\d+)\s*\*/", RegexOptions.Multiline)]
    private static partial Regex PaholeMember();

    /// <summary>pahole's byte offsets of task_struct's members in the running kernel's BTF.</summary>
    private static Dictionary<string, uint> PaholeOffsets()
    {
        string pahole = Requires.Tool("pahole", "dwarves");
        // Old pahole warns about BTF kinds newer than itself on stderr; the layout it prints is right.
        var (code, text, err) = Tools.Run(pahole, "-F", "btf", "-C", "task_struct", VmlinuxBtf.Path);
        Assert.True(code == 0 && text.Length > 0, $"pahole -C task_struct: exit {code}: {err}");
        var offsets = new Dictionary<string, uint>(StringComparer.Ordinal);
        foreach (Match m in PaholeMember().Matches(text))
        {
            offsets.TryAdd(m.Groups["name"].Value, uint.Parse(m.Groups["offset"].Value));
        }
        return offsets;
    }

    [Fact]
    public void TaskStruct_CoreReads_ResolveToThisKernelsOffsetsAndValues()
    {
        Requires.Root();
        if (!VmlinuxBtf.IsAvailable)
        {
            Requires.KernelLacks(KernelProbe.Btf, "no /sys/kernel/btf/vmlinux");
        }
        CollectionSpec spec = CollectionSpec.LoadObject(BpfObjects.Test("core_task"));
        spec.SetVariable("target_tgid", (uint)Environment.ProcessId);
        using Collection c = Collection.Load(spec);
        c.AttachAll();
        Map bss = c.Maps.Values.Single(m => m.Spec?.Section == ".bss");
        var value = new byte[bss.ValueSize];
        uint Read(string name)
        {
            Assert.True(bss.Lookup(new byte[4], value));
            return BitConverter.ToUInt32(value, (int)spec.Variables[name].Offset);
        }
        for (int i = 0; i < 5 && Read("seen") == 0; i++)
        {
            _ = Directory.GetCurrentDirectory(); // getcwd(2)
            Thread.Sleep(10);
        }
        Assert.True(Read("seen") > 0, "the getcwd tracepoint never ran for this process");

        Dictionary<string, uint> pahole = PaholeOffsets();
        foreach (string field in new[] { "pid", "tgid", "real_parent" })
        {
            uint resolved = Read(field + "_offset");
            output.WriteLine($"co-re: task_struct.{field} at {resolved} (pahole {pahole[field]})"); // tests/kernels/report.py prints these
            Assert.Equal(pahole[field], resolved);
        }
        Assert.NotEqual(0u, Read("pid_offset")); // relocated: the object's own layout has pid at 0
        Assert.Equal(Read("helper_tid"), Read("core_pid"));
        Assert.Equal((uint)Environment.ProcessId, Read("core_tgid"));
        Assert.Equal((uint)Environment.ProcessId, Read("helper_tgid"));
        uint ppid = uint.Parse(File.ReadAllText("/proc/self/stat").Split(')')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
        Assert.Equal(ppid, Read("core_ppid"));
    }
}
