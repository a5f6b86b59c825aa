using Kscope.Kernel.Bpf;

namespace Kscope.Kernel.Tests.Harness;

/// <summary>
/// TestKit's probes on the real machine: each decides (as root) with evidence, agrees with an independent
/// reading of the same fact, and a skip reason built from one is what .ci/check-skips accepts.
/// </summary>
[Trait("Category", "Kernel")]
public class MachineProbesTests(ITestOutputHelper output)
{
    [Fact]
    public void EveryProbe_AsRoot_DecidesWithEvidence()
    {
        Requires.Root();
        var undecided = new List<string>();
        foreach (KernelProbe probe in Enum.GetValues<KernelProbe>())
        {
            ProbeFinding f = MachineProbes.Check(probe);
            output.WriteLine(f.ToString());
            Assert.False(string.IsNullOrWhiteSpace(f.Evidence), $"{probe}: no evidence");
            if (f.Verdict == ProbeVerdict.CouldNotTest)
            {
                undecided.Add(f.ToString());
            }
        }
        Assert.True(undecided.Count == 0, "as root every probe must decide:\n" + string.Join('\n', undecided));
    }

    [Fact]
    public void Btf_AgreesWithTheFile()
    {
        Assert.Equal(File.Exists("/sys/kernel/btf/vmlinux"), MachineProbes.Check(KernelProbe.Btf).Verdict == ProbeVerdict.Present);
    }

    [Fact]
    public void KprobePmu_AgreesWithKscopesProbe()
    {
        Assert.Equal(Features.KprobePmu() == FeatureStatus.Present, MachineProbes.Check(KernelProbe.KprobePmu).Verdict == ProbeVerdict.Present);
    }

    [Fact]
    public void Tracing_RawBpfProbes_AgreeWithKscopesProbes()
    {
        Requires.Root();
        Requires.Kernel(KernelProbe.Btf);
        var btf = Kscope.Kernel.Btf.VmlinuxBtf.Get();
        uint open = (uint)btf.FindType("do_sys_openat2", Kscope.Formats.Btf.BtfKind.Func)!.Id;
        uint sysEnter = (uint)btf.FindType("btf_trace_sys_enter", Kscope.Formats.Btf.BtfKind.Typedef)!.Id;
        Assert.Equal(Features.TracingPrograms(ProgramType.Tracing, AttachType.TraceFentry, open) == FeatureStatus.Present,
            MachineProbes.Check(KernelProbe.BpfTrampoline).Verdict == ProbeVerdict.Present);
        Assert.Equal(Features.TracingPrograms(ProgramType.Tracing, AttachType.TraceRawTp, sysEnter) == FeatureStatus.Present,
            MachineProbes.Check(KernelProbe.TracepointBtf).Verdict == ProbeVerdict.Present);
    }

    [Fact]
    public void CgroupV2Controllers_AgreeWithCgroupControllersFile()
    {
        Requires.Root();
        string root = MachineSetup.Mounts().First(m => m.FsType == "cgroup2").MountPoint;
        string[] available = File.ReadAllText(Path.Combine(root, "cgroup.controllers")).Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
        foreach (var (probe, controller) in new[] { (KernelProbe.CgroupV2Cpu, "cpu"), (KernelProbe.CgroupV2Memory, "memory"), (KernelProbe.CgroupV2Cpuset, "cpuset") })
        {
            Assert.True(available.Contains(controller) == (MachineProbes.Check(probe).Verdict == ProbeVerdict.Present), $"{probe}: {MachineProbes.Check(probe)}; {root}/cgroup.controllers: {string.Join(' ', available)}");
        }
    }

    [Fact]
    public void KernelLacks_ProbeSaysPresent_FailsInsteadOfSkipping()
    {
        Requires.Root();
        KernelProbe? present = Enum.GetValues<KernelProbe>().Cast<KernelProbe?>().FirstOrDefault(p => MachineProbes.Check(p!.Value).Verdict == ProbeVerdict.Present);
        if (present is null)
        {
            Requires.Unmet("no probe says present on this machine");
        }
        var e = Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => Requires.KernelLacks(present.Value, "pretended missing"));
        Assert.Contains("says this machine has it", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("kernel lacks", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SkipReason_NamesTheProbe_AsCheckSkipsExpects()
    {
        var f = new ProbeFinding(KernelProbe.Kvm, ProbeVerdict.Absent, "no /sys/class/misc/kvm");
        Assert.Equal("kernel lacks Kvm: no /sys/class/misc/kvm", f.SkipReason);
        Assert.StartsWith(Requires.KernelLacksPrefix, f.SkipReason, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckSkips_UnnamedAndNamedReasons_FailsOnlyTheUnnamed()
    {
        string python = Requires.Tool("python3", "python3");
        using var dir = new TempDirectory("kscope-checkskips-");
        string xml = dir.Write("r.xml", """
            <assemblies><assembly><collection>
              <test name="A.Named" result="Skip"><reason><![CDATA[kernel lacks Kvm: no /sys/class/misc/kvm]]></reason></test>
              <test name="A.Passed" result="Pass" />
            </collection></assembly></assemblies>
            """);
        var (ok, okOut, _) = Tools.Run(python, Path.Combine(Tools.RepoRoot, ".ci", "check-skips"), xml);
        Assert.True(ok == 0, okOut);
        Assert.Contains("1 skip(s), 0 naming no kernel probe", okOut, StringComparison.Ordinal);

        string bad = dir.Write("bad.xml", """
            <assemblies><assembly><collection>
              <test name="B.Tool" result="Skip"><reason><![CDATA['bpftool' not on PATH]]></reason></test>
              <test name="B.Unknown" result="Skip"><reason><![CDATA[kernel lacks Kprobes: no PMU]]></reason></test>
              <test name="B.Old" result="Skip"><reason><![CDATA[kernel lacks: /dev/kvm]]></reason></test>
            </collection></assembly></assemblies>
            """);
        var (code, text, _) = Tools.Run(python, Path.Combine(Tools.RepoRoot, ".ci", "check-skips"), xml, bad);
        Assert.Equal(1, code);
        Assert.Contains("BAD SKIP  B.Tool", text, StringComparison.Ordinal);
        Assert.Contains("'Kprobes' is not a member of enum KernelProbe", text, StringComparison.Ordinal);
        Assert.Contains("BAD SKIP  B.Old", text, StringComparison.Ordinal);
        Assert.Contains("4 skip(s), 3 naming no kernel probe", text, StringComparison.Ordinal);
    }
}
