using System.Collections.Concurrent;
using System.Globalization;

namespace Kscope.TestKit;

/// <summary>
/// Runs each <see cref="KernelProbe"/> once per process: first sets up what a test environment may lack
/// (mounts, modules on disk, the /dev/kvm node), then decides from what the kernel shows, with the evidence.
/// </summary>
public static class MachineProbes
{
    private static readonly ConcurrentDictionary<KernelProbe, Lazy<ProbeFinding>> s_cache = new();

    public static ProbeFinding Check(KernelProbe probe) =>
        s_cache.GetOrAdd(probe, p => new Lazy<ProbeFinding>(() => Run(p), LazyThreadSafetyMode.ExecutionAndPublication)).Value;

    private static ProbeFinding Run(KernelProbe probe)
    {
        try
        {
            return probe switch
            {
                KernelProbe.Btf => Btf(),
                KernelProbe.ModuleBtf => ModuleBtf(),
                KernelProbe.KernelConfig => KernelConfig(),
                KernelProbe.KprobePmu => KprobePmu(),
                KernelProbe.KprobeEvents => KprobeEvents(),
                KernelProbe.KprobeMulti => KprobeMulti(),
                KernelProbe.BpfTrampoline => Tracing(probe, "do_sys_openat2", VmlinuxTypes.Func, RawBpf.Tracing, RawBpf.TraceFentry),
                KernelProbe.TracepointBtf => Tracing(probe, "btf_trace_sys_enter", VmlinuxTypes.Typedef, RawBpf.Tracing, RawBpf.TraceRawTp),
                KernelProbe.BpfLsm => BpfLsm(),
                KernelProbe.Lockdown => Lockdown(),
                KernelProbe.Kvm => Kvm(),
                KernelProbe.CgroupV2 => CgroupV2(),
                KernelProbe.CgroupCpu or KernelProbe.CgroupMemory or KernelProbe.CgroupPids or KernelProbe.CgroupCpuset => CgroupSetup.ProbeAny(probe),
                KernelProbe.CgroupV2Cpu or KernelProbe.CgroupV2Memory or KernelProbe.CgroupV2Cpuset => CgroupSetup.ProbeV2(probe),
                KernelProbe.CgroupV1Cpu => CgroupSetup.ProbeV1Cpu(),
                _ => throw new ArgumentOutOfRangeException(nameof(probe), probe, "no probe written for it"),
            };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new(probe, ProbeVerdict.CouldNotTest, $"the probe failed: {e.GetType().Name}: {e.Message}");
        }
    }

    private static ProbeFinding Btf()
    {
        if (File.Exists(VmlinuxTypes.Path))
        {
            return new(KernelProbe.Btf, ProbeVerdict.Present, $"{VmlinuxTypes.Path}, {new FileInfo(VmlinuxTypes.Path).Length / 1024} KiB");
        }
        if (!Directory.Exists("/sys/kernel"))
        {
            return new(KernelProbe.Btf, ProbeVerdict.CouldNotTest, "sysfs is not mounted at /sys");
        }
        return new(KernelProbe.Btf, ProbeVerdict.Absent, $"no {VmlinuxTypes.Path} ({MachineSetup.ConfigEvidence("CONFIG_DEBUG_INFO_BTF")})");
    }

    private static string[] ModulesWithBtf() =>
        Directory.Exists("/sys/kernel/btf") ? Directory.GetFiles("/sys/kernel/btf").Select(f => Path.GetFileName(f)).Where(n => n != "vmlinux").Order(StringComparer.Ordinal).ToArray() : [];

    private static ProbeFinding ModuleBtf()
    {
        const KernelProbe probe = KernelProbe.ModuleBtf;
        if (Check(KernelProbe.Btf) is { Verdict: not ProbeVerdict.Present } btf)
        {
            return btf with { Probe = probe };
        }
        if (ModulesWithBtf() is { Length: > 0 } loaded)
        {
            return new(probe, ProbeVerdict.Present, $"/sys/kernel/btf has {string.Join(", ", loaded.Take(5))}{(loaded.Length > 5 ? ", …" : "")}");
        }
        if (!MachineSetup.ModulesSupported)
        {
            return new(probe, ProbeVerdict.Absent, "no module is loaded and the kernel cannot load any (no /proc/modules: CONFIG_MODULES unset)");
        }
        if (MachineSetup.Config?.GetValueOrDefault("CONFIG_DEBUG_INFO_BTF_MODULES") == "n")
        {
            return new(probe, ProbeVerdict.Absent, MachineSetup.ConfigEvidence("CONFIG_DEBUG_INFO_BTF_MODULES"));
        }
        // Modules that create nothing on load (no interface, no device beyond a control node).
        var tried = new List<string>();
        foreach (string module in (string[])["veth", "tun", "dummy"])
        {
            string? error = module == "dummy" ? MachineSetup.LoadModule(module, "numdummies=0") : MachineSetup.LoadModule(module);
            if (error is null && ModulesWithBtf() is { Length: > 0 } now)
            {
                return new(probe, ProbeVerdict.Present, $"loaded module {module} from {MachineSetup.ModuleDirectory}: /sys/kernel/btf has {string.Join(", ", now.Take(5))}");
            }
            tried.Add(error is null ? $"{module} loaded without BTF" : error);
            if (error is not null && (error.Contains("needs root", StringComparison.Ordinal) || error.Contains("not on PATH", StringComparison.Ordinal)))
            {
                return new(probe, ProbeVerdict.CouldNotTest, error);
            }
        }
        return new(probe, ProbeVerdict.Absent, $"no loaded module has BTF and none could be loaded: {string.Join("; ", tried)} ({MachineSetup.ConfigEvidence("CONFIG_DEBUG_INFO_BTF_MODULES")})");
    }

    private static ProbeFinding KernelConfig()
    {
        const KernelProbe probe = KernelProbe.KernelConfig;
        string boot = $"/boot/config-{MachineSetup.Release}";
        if (File.Exists("/proc/config.gz") || File.Exists(boot))
        {
            return new(probe, ProbeVerdict.Present, File.Exists("/proc/config.gz") ? "/proc/config.gz" : boot);
        }
        string? error = MachineSetup.LoadModule("configs");
        if (error is null && File.Exists("/proc/config.gz"))
        {
            return new(probe, ProbeVerdict.Present, "/proc/config.gz after loading the configs module");
        }
        if (error is not null && error.Contains("needs root", StringComparison.Ordinal))
        {
            return new(probe, ProbeVerdict.CouldNotTest, error);
        }
        return new(probe, ProbeVerdict.Absent, $"no /proc/config.gz (CONFIG_IKCONFIG_PROC unset; configs module: {error ?? "loaded, no /proc/config.gz"}) and no {boot}");
    }

    private static ProbeFinding KprobePmu()
    {
        const KernelProbe probe = KernelProbe.KprobePmu;
        const string Pmu = "/sys/bus/event_source/devices/kprobe";
        if (Directory.Exists(Pmu))
        {
            return new(probe, ProbeVerdict.Present, Pmu);
        }
        if (!Directory.Exists("/sys/bus/event_source/devices"))
        {
            return new(probe, ProbeVerdict.CouldNotTest, "no /sys/bus/event_source/devices (sysfs not mounted?)");
        }
        return new(probe, ProbeVerdict.Absent, $"no {Pmu} ({MachineSetup.ConfigEvidence("CONFIG_KPROBES")}; register_kprobe {(MachineSetup.HasKernelSymbol("register_kprobe") ? "is" : "is not")} in /proc/kallsyms)");
    }

    private static ProbeFinding KprobeEvents()
    {
        const KernelProbe probe = KernelProbe.KprobeEvents;
        string? tracefs = MachineSetup.TraceFs(out string ev);
        if (tracefs is null)
        {
            return new(probe, MachineSetup.KernelHasFileSystem("tracefs") ? ProbeVerdict.CouldNotTest : ProbeVerdict.Absent, ev);
        }
        string events = Path.Combine(tracefs, "kprobe_events");
        return File.Exists(events)
            ? new(probe, ProbeVerdict.Present, $"{events} ({ev})")
            : new(probe, ProbeVerdict.Absent, $"no {events} ({MachineSetup.ConfigEvidence("CONFIG_KPROBE_EVENTS")}; {ev})");
    }

    private static ProbeFinding KprobeMulti()
    {
        const KernelProbe probe = KernelProbe.KprobeMulti;
        if (Check(KernelProbe.KprobePmu) is { Verdict: not ProbeVerdict.Present } kprobes)
        {
            return kprobes with { Probe = probe };
        }
        if (Check(KernelProbe.Btf) is { Verdict: not ProbeVerdict.Present } btf)
        {
            return new(probe, ProbeVerdict.CouldNotTest, $"without BTF the probe cannot read enum bpf_attach_type ({btf.Evidence})");
        }
        if (!VmlinuxTypes.HasString("BPF_TRACE_KPROBE_MULTI"))
        {
            return new(probe, ProbeVerdict.Absent, "the kernel's enum bpf_attach_type has no BPF_TRACE_KPROBE_MULTI (5.18+)");
        }
        return MachineSetup.HasKernelSymbol("register_fprobe")
            ? new(probe, ProbeVerdict.Present, "BPF_TRACE_KPROBE_MULTI in BTF, register_fprobe in /proc/kallsyms")
            : new(probe, ProbeVerdict.Absent, $"no register_fprobe in /proc/kallsyms: built without fprobe ({MachineSetup.ConfigEvidence("CONFIG_FPROBE")})");
    }

    /// <summary>A trivial program of <paramref name="type"/> on the BTF <paramref name="target"/> loads and attaches (BPF_RAW_TRACEPOINT_OPEN).</summary>
    private static ProbeFinding Tracing(KernelProbe probe, string target, int kind, uint type, uint attach)
    {
        if (!Requires.IsRoot())
        {
            return new(probe, ProbeVerdict.CouldNotTest, "loading BPF programs needs root");
        }
        if (Check(KernelProbe.Btf) is { Verdict: not ProbeVerdict.Present } btf)
        {
            return btf with { Probe = probe, Evidence = $"these programs need a BTF attach target: {btf.Evidence}" };
        }
        uint id = VmlinuxTypes.Find(target, kind);
        if (id == 0)
        {
            return new(probe, ProbeVerdict.Absent, $"no {(kind == VmlinuxTypes.Func ? "FUNC" : "TYPEDEF")} {target} in {VmlinuxTypes.Path}");
        }
        string? error = RawBpf.LoadAndAttach(type, attach, id, attach: true);
        if (error is null)
        {
            return new(probe, ProbeVerdict.Present, $"a program on {target} (BTF id {id}) loaded and attached");
        }
        if (RawBpf.IsPermission(error) && RawBpf.LoadAndAttach(RawBpf.SocketFilter, 0, 0, attach: false) is string denied)
        {
            return new(probe, ProbeVerdict.CouldNotTest, $"{error}, and a socket filter is refused too ({denied}): no permission to load BPF programs");
        }
        return new(probe, ProbeVerdict.Absent, $"a program on {target} (BTF id {id}): {error}{(RawBpf.IsPermission(error) ? ", while a socket filter loads: the kernel refuses this kind" : "")}");
    }

    private static ProbeFinding BpfLsm()
    {
        const KernelProbe probe = KernelProbe.BpfLsm;
        string? securityfs = MachineSetup.SecurityFs(out string ev);
        if (securityfs is null)
        {
            return new(probe, MachineSetup.KernelHasFileSystem("securityfs") ? ProbeVerdict.CouldNotTest : ProbeVerdict.Absent, ev);
        }
        string lsms = File.ReadAllText(Path.Combine(securityfs, "lsm")).Trim();
        if (!lsms.Split(',').Contains("bpf"))
        {
            return new(probe, ProbeVerdict.Absent, $"active LSMs '{lsms}' lack bpf ({MachineSetup.ConfigEvidence("CONFIG_BPF_LSM")}; needs bpf in lsm= or CONFIG_LSM)");
        }
        ProbeFinding attached = Tracing(probe, "bpf_lsm_file_open", VmlinuxTypes.Func, RawBpf.Lsm, RawBpf.LsmMac);
        return attached with { Evidence = $"active LSMs '{lsms}'; {attached.Evidence}" };
    }

    private static ProbeFinding Lockdown()
    {
        const KernelProbe probe = KernelProbe.Lockdown;
        string? securityfs = MachineSetup.SecurityFs(out string ev);
        if (securityfs is null)
        {
            return new(probe, MachineSetup.KernelHasFileSystem("securityfs") ? ProbeVerdict.CouldNotTest : ProbeVerdict.Absent, ev);
        }
        string file = Path.Combine(securityfs, "lockdown");
        if (File.Exists(file))
        {
            return new(probe, ProbeVerdict.Present, $"{file}: {File.ReadAllText(file).Trim()} ({ev})");
        }
        string lsms = File.ReadAllText(Path.Combine(securityfs, "lsm")).Trim();
        return new(probe, ProbeVerdict.Absent, $"no {file}: active LSMs '{lsms}' ({MachineSetup.ConfigEvidence("CONFIG_SECURITY_LOCKDOWN_LSM")})");
    }

    private static ProbeFinding Kvm()
    {
        const KernelProbe probe = KernelProbe.Kvm;
        const string Misc = "/sys/class/misc/kvm/dev";
        string flags = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal)) ?? "";
        bool vmx = flags.Split(' ').Contains("vmx"), svm = flags.Split(' ').Contains("svm");
        string loaded = "";
        if (!File.Exists(Misc) && MachineSetup.ModulesSupported && (vmx || svm))
        {
            string? error = MachineSetup.LoadModule(vmx ? "kvm_intel" : "kvm_amd");
            loaded = error is null ? $"; loaded {(vmx ? "kvm_intel" : "kvm_amd")}" : $"; {error}";
        }
        if (!File.Exists(Misc))
        {
            return new(probe, ProbeVerdict.Absent,
                $"the kernel registered no kvm device (no /sys/class/misc/kvm; {MachineSetup.ConfigEvidence("CONFIG_KVM")}; CPU flags {(vmx ? "have vmx" : svm ? "have svm" : "have neither vmx nor svm")}{loaded})");
        }
        string devNumbers = File.ReadAllText(Misc).Trim(); // "10:232"
        string[] mm = devNumbers.Split(':');
        if (!File.Exists("/dev/kvm"))
        {
            if (!Requires.IsRoot())
            {
                return new(probe, ProbeVerdict.CouldNotTest, $"kvm registered as {devNumbers} but /dev/kvm is missing, and creating it needs root");
            }
            var (code, _, err) = Tools.Run("mknod", "-m", "0660", "/dev/kvm", "c", mm[0], mm[1]);
            if (code != 0)
            {
                return new(probe, ProbeVerdict.CouldNotTest, $"kvm registered as {devNumbers}, /dev/kvm missing, mknod failed: {err.Trim()}");
            }
            return new(probe, ProbeVerdict.Present, $"kvm misc device {devNumbers}{loaded}; /dev/kvm was missing and was created with mknod");
        }
        string actual = Tools.Run("stat", "-L", "-c", "%F %t:%T", "/dev/kvm").Out.Trim(); // "character special file a:e8"
        string expected = $"character special file {int.Parse(mm[0], CultureInfo.InvariantCulture):x}:{int.Parse(mm[1], CultureInfo.InvariantCulture):x}";
        return actual == expected
            ? new(probe, ProbeVerdict.Present, $"kvm misc device {devNumbers}{loaded}, /dev/kvm")
            : new(probe, ProbeVerdict.CouldNotTest, $"kvm registered as {devNumbers} but /dev/kvm is '{actual}'");
    }

    private static ProbeFinding CgroupV2()
    {
        const KernelProbe probe = KernelProbe.CgroupV2;
        string? root = CgroupSetup.Unified(out string ev);
        if (root is not null)
        {
            return new(probe, ProbeVerdict.Present, ev);
        }
        return new(probe, MachineSetup.KernelHasFileSystem("cgroup2") ? ProbeVerdict.CouldNotTest : ProbeVerdict.Absent, ev);
    }
}
