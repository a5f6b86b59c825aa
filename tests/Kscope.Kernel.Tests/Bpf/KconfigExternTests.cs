using System.Globalization;
using Kscope.Kernel.Bpf;
using Kscope.Kernel.Bpf.Loader;
using Kscope.Kernel.Host;

namespace Kscope.Kernel.Tests.Bpf;

/// <summary>__kconfig externs: laid out in a read-only .kconfig map, valued from uname and the kernel's config, read by a program.</summary>
[Trait("Category", "Kernel")]
public class KconfigExternTests
{
    [Fact]
    public void Kconfig_ProgramReadsKernelVersionConfigValuesAndWeakZero()
    {
        Requires.Root();
        CollectionSpec spec = CollectionSpec.LoadObject(BpfObjects.Test("kconfig"));
        _ = MachineProbes.Check(KernelProbe.KernelConfig); // loads the configs module when one is on disk
        if (KernelConfigReader.Read() is null)
        {
            // Debian's kernels in the tests/kernels guests: no CONFIG_IKCONFIG_PROC, and the host's /boot has no config
            // for the guest's release. Non-weak CONFIG_ externs cannot be valued: the load must say so (libbpf fails too).
            Exception e = Assert.ThrowsAny<Exception>(() => Collection.Load(spec).Dispose());
            Assert.Contains("the kernel's configuration is not readable", e.ToString());
            Requires.KernelLacks(KernelProbe.KernelConfig, "KernelConfigReader.Read() is null");
        }
        string config = KernelConfigReader.Read()?.Value["CONFIG_HZ"] ?? throw new InvalidOperationException("no CONFIG_HZ in the kernel config");
        Assert.Equal(["CONFIG_BPF_SYSCALL", "CONFIG_HZ", "CONFIG_KSCOPE_NO_SUCH_OPTION", "LINUX_KERNEL_VERSION"], spec.Externs.Select(e => e.Name).Order(StringComparer.Ordinal).ToArray());
        Assert.True(spec.Externs.Single(e => e.Name == "CONFIG_KSCOPE_NO_SUCH_OPTION").Weak);
        // libbpf's layout: 4-byte ints first (by name), then the 1-byte bool
        Assert.Equal([("CONFIG_HZ", 0u), ("CONFIG_KSCOPE_NO_SUCH_OPTION", 4u), ("LINUX_KERNEL_VERSION", 8u), ("CONFIG_BPF_SYSCALL", 12u)],
            spec.Externs.Select(e => (e.Name, e.Offset)).OrderBy(e => e.Offset).ToArray());

        using Collection c = Collection.Load(spec);
        Assert.Null(c.BtfError);
        c.AttachAll();
        Assert.Equal(Environment.ProcessId, Kscope.Native.Posix.GetPid()); // a syscall the raw tracepoint sees
        Thread.Sleep(50);

        ulong Seen(string name)
        {
            VariableSpec v = spec.Variables[name]; // seen_missing starts at 42, in .data; the others in .bss
            var value = new byte[spec.Maps[v.MapName].ValueSize];
            Assert.True(c.Maps[v.MapName].Lookup(new byte[4], value));
            return BitConverter.ToUInt64(value, (int)v.Offset);
        }
        Assert.Equal(KconfigExterns.KernelVersionCode(), Seen("seen_version"));
        Assert.Equal(ulong.Parse(config, CultureInfo.InvariantCulture), Seen("seen_hz"));
        Assert.Equal(1UL, Seen("seen_bpf"));
        Assert.Equal(0UL, Seen("seen_missing"));

        // libbpf places and values the externs identically: same kernel tag (a hash of the submitted instructions).
        string bpftool = Requires.Tool("bpftool", "bpftool");
        string dir = $"/sys/fs/bpf/kscope_kconfig_{Environment.ProcessId}";
        try
        {
            Tools.Check(bpftool, "prog", "loadall", BpfObjects.Test("kconfig"), dir);
            using var shown = System.Text.Json.JsonDocument.Parse(Tools.Check(bpftool, "prog", "show", "pinned", Path.Combine(dir, "read_kconfig"), "-j"));
            Assert.Equal(shown.RootElement.GetProperty("tag").GetString(), Tag(c.Programs["read_kconfig"].Info()));
        }
        finally
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    private static unsafe string Tag(Kscope.Native.Bpf.BpfProgInfo info) => Convert.ToHexStringLower(new ReadOnlySpan<byte>(info.Tag, 8));
}
