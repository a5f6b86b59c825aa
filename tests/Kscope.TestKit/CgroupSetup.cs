using System.Globalization;

namespace Kscope.TestKit;

/// <summary>
/// The cgroup hierarchies as the kernel and the mount table describe them (/proc/cgroups, /proc/self/mountinfo,
/// cgroup.controllers), read with no kscope code; the cgroup probes and <see cref="TempCgroup"/> rest on it.
/// </summary>
internal static class CgroupSetup
{
    public sealed record Controller(string Name, int Hierarchy, int Cgroups, bool Enabled);

    private static readonly Dictionary<string, KernelProbe> s_any = new(StringComparer.Ordinal)
    {
        ["cpu"] = KernelProbe.CgroupCpu,
        ["memory"] = KernelProbe.CgroupMemory,
        ["pids"] = KernelProbe.CgroupPids,
        ["cpuset"] = KernelProbe.CgroupCpuset,
    };

    private static readonly Dictionary<string, KernelProbe> s_v2 = new(StringComparer.Ordinal)
    {
        ["cpu"] = KernelProbe.CgroupV2Cpu,
        ["memory"] = KernelProbe.CgroupV2Memory,
        ["cpuset"] = KernelProbe.CgroupV2Cpuset,
    };

    private static readonly Dictionary<string, string> s_configOption = new(StringComparer.Ordinal)
    {
        ["cpu"] = "CONFIG_CGROUP_SCHED",
        ["memory"] = "CONFIG_MEMCG",
        ["pids"] = "CONFIG_CGROUP_PIDS",
        ["cpuset"] = "CONFIG_CPUSETS",
    };

    /// <summary>The probe deciding whether any hierarchy can have <paramref name="controller"/>.</summary>
    public static KernelProbe AnyProbe(string controller) =>
        s_any.TryGetValue(controller, out KernelProbe p) ? p : throw new ArgumentException($"no KernelProbe for the cgroup controller '{controller}': add one", nameof(controller));

    /// <summary>The probe deciding whether the unified hierarchy can have <paramref name="controller"/>.</summary>
    public static KernelProbe V2Probe(string controller) =>
        s_v2.TryGetValue(controller, out KernelProbe p) ? p : throw new ArgumentException($"no KernelProbe for '{controller}' on cgroup v2: add one", nameof(controller));

    public static string ControllerOf(KernelProbe probe) =>
        s_any.Concat(s_v2).Single(kv => kv.Value == probe).Key;

    public static Controller? Row(string name)
    {
        if (!File.Exists("/proc/cgroups"))
        {
            return null;
        }
        foreach (string line in File.ReadLines("/proc/cgroups"))
        {
            string[] f = line.Split('\t', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (f.Length >= 4 && f[0] == name)
            {
                return new Controller(name, int.Parse(f[1], CultureInfo.InvariantCulture), int.Parse(f[2], CultureInfo.InvariantCulture), f[3] == "1");
            }
        }
        return null;
    }

    /// <summary>The unified hierarchy's mount point, mounting cgroup2 when nothing did.</summary>
    public static string? Unified(out string evidence) => MachineSetup.EnsureMounted("cgroup2", Path.Combine(MachineSetup.MountBase, "cgroup2"), out evidence);

    /// <summary>The mount point of the v1 hierarchy holding <paramref name="controller"/>, if mounted.</summary>
    public static string? V1Mount(string controller) =>
        MachineSetup.Mounts().FirstOrDefault(m => m.FsType == "cgroup" && m.HasOption(controller))?.MountPoint;

    public static IReadOnlyList<string> V2Controllers(string root) =>
        File.ReadAllText(Path.Combine(root, "cgroup.controllers")).Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries);

    public static ProbeFinding ProbeAny(KernelProbe probe)
    {
        string c = ControllerOf(probe);
        if (Row(c) is not Controller row)
        {
            return new(probe, ProbeVerdict.Absent, $"{c} is not in /proc/cgroups ({MachineSetup.ConfigEvidence(s_configOption[c])})");
        }
        if (!row.Enabled)
        {
            return new(probe, ProbeVerdict.Absent, $"{c} is disabled in /proc/cgroups (kernel command line: {File.ReadAllText("/proc/cmdline").Trim()})");
        }
        if (V1Mount(c) is string v1)
        {
            return new(probe, ProbeVerdict.Present, $"{c} on the v1 hierarchy at {v1}");
        }
        string? unified = Unified(out string ev);
        if (unified is not null && V2Controllers(unified).Contains(c))
        {
            return new(probe, ProbeVerdict.Present, $"{c} on the unified hierarchy ({ev})");
        }
        // Bound to a v1 hierarchy this mount namespace does not show (or cgroup2 is missing): mount that hierarchy.
        string target = Path.Combine(MachineSetup.MountBase, "cgroup-" + c);
        if (!Requires.IsRoot())
        {
            return new(probe, ProbeVerdict.CouldNotTest, $"{c} is on no mounted hierarchy and mounting one needs root");
        }
        string? error = MachineSetup.MountAt("cgroup", c, target);
        return error is null
            ? new(probe, ProbeVerdict.Present, $"{c} on the v1 hierarchy mounted now at {target} (no mounted hierarchy had it)")
            : new(probe, ProbeVerdict.CouldNotTest, $"{c} is on no mounted hierarchy; mount -t cgroup -o {c} failed: {error} ({ev})");
    }

    public static ProbeFinding ProbeV2(KernelProbe probe)
    {
        string c = ControllerOf(probe);
        ProbeFinding any = MachineProbes.Check(AnyProbe(c));
        if (any.Verdict != ProbeVerdict.Present)
        {
            return any with { Probe = probe };
        }
        string? unified = Unified(out string ev);
        if (unified is null)
        {
            ProbeFinding v2 = MachineProbes.Check(KernelProbe.CgroupV2);
            return v2 with { Probe = probe };
        }
        IReadOnlyList<string> available = V2Controllers(unified);
        if (available.Contains(c))
        {
            return new(probe, ProbeVerdict.Present, $"{c} in {unified}/cgroup.controllers");
        }
        Controller row = Row(c)!;
        if (row.Hierarchy != 0)
        {
            return new(probe, ProbeVerdict.Absent,
                $"{c} is bound to the v1 hierarchy {row.Hierarchy} at {V1Mount(c) ?? "(not mounted here)"} with {row.Cgroups} cgroup(s) (hybrid mode, chosen at boot); " +
                $"{unified}/cgroup.controllers offers only '{string.Join(' ', available)}'");
        }
        return new(probe, ProbeVerdict.CouldNotTest, $"{c} is free in /proc/cgroups but not in {unified}/cgroup.controllers ({ev})");
    }

    public static ProbeFinding ProbeV1Cpu()
    {
        const KernelProbe probe = KernelProbe.CgroupV1Cpu;
        ProbeFinding any = MachineProbes.Check(KernelProbe.CgroupCpu);
        if (any.Verdict != ProbeVerdict.Present)
        {
            return any with { Probe = probe };
        }
        if (V1Mount("cpu") is string v1)
        {
            return new(probe, ProbeVerdict.Present, $"cpu on the v1 hierarchy at {v1}");
        }
        // Present above without a v1 mount: the unified hierarchy has cpu. Mounting a v1 cpu hierarchy now would take
        // the controller away from v2 (and from every other test using it): this machine runs pure cgroup v2.
        return new(probe, ProbeVerdict.Absent, $"cpu belongs to the unified hierarchy (pure cgroup v2; {any.Evidence}): no v1 hierarchy has it");
    }
}
