using System.Globalization;
using Kscope.Formats.Procfs;
using Kscope.Kernel.Host;
using Kscope.Kernel.Host.Probes;
using Kscope.Native;

namespace Kscope.Diagnostics.Doctor;

/// <summary>Section 3: what may stop kscope or weaken the host: capabilities, LSMs, seccomp, sysctls, ASLR, KASLR, CPU protections.</summary>
public static class SecurityChecks
{
    /// <summary>Capabilities kscope uses and what each missing one disables.</summary>
    private static readonly (int Cap, int? Alternative, string Disables)[] s_needed =
    [
        (Capability.Bpf, Capability.SysAdmin, "eBPF gadgets, trace and off-CPU profiling"),
        (Capability.Perfmon, Capability.SysAdmin, "perf events: CPU profiling and tracepoint/uprobe attachment"),
        (Capability.SysAdmin, null, "mounting tracefs, debugfs, bpffs and securityfs"),
        (Capability.SysPtrace, null, "reading other processes' environment, maps and memory"),
    ];

    public static IReadOnlyList<DoctorCheck> All { get; } =
    [
        new("security.capabilities", DoctorSection.Security, "kscope's capabilities", Capabilities),
        new("security.lsm", DoctorSection.Security, "security modules", Lsm),
        new("security.selinux", DoctorSection.Security, "SELinux", Selinux),
        new("security.apparmor", DoctorSection.Security, "AppArmor", AppArmor),
        new("security.seccomp", DoctorSection.Security, "seccomp", Seccomp),
        new("security.no_new_privs", DoctorSection.Security, "NoNewPrivs", NoNewPrivs),
        new("security.lockdown", DoctorSection.Security, "kernel lockdown", Lockdown),
        new("security.yama.ptrace_scope", DoctorSection.Security, "kernel.yama.ptrace_scope", PtraceScope),
        new("security.perf_event_paranoid", DoctorSection.Security, "kernel.perf_event_paranoid", PerfEventParanoid),
        new("security.kptr_restrict", DoctorSection.Security, "kernel.kptr_restrict", KptrRestrict),
        new("security.unprivileged_bpf_disabled", DoctorSection.Security, "kernel.unprivileged_bpf_disabled", UnprivilegedBpf),
        new("security.aslr.sysctl", DoctorSection.Security, "kernel.randomize_va_space", RandomizeVaSpace),
        new("security.aslr.measured", DoctorSection.Security, "measured ASLR", MeasuredAslr, StartsChildren: true),
        new("security.kaslr", DoctorSection.Security, "KASLR", Kaslr),
        new("security.cpu.smep", DoctorSection.Security, "SMEP", c => CpuFlag("smep", "the kernel can execute user-space pages (ret2usr)")),
        new("security.cpu.smap", DoctorSection.Security, "SMAP", c => CpuFlag("smap", "the kernel can read/write user pages unintentionally")),
        new("security.cpu.umip", DoctorSection.Security, "UMIP", c => CpuFlag("umip", "user space can run SGDT/SIDT/SLDT and learn kernel addresses")),
        new("security.cpu.pku", DoctorSection.Security, "PKU", c => CpuFlag("pku", "memory protection keys (pkey_mprotect) are unavailable")),
    ];

    private static CheckOutcome Capabilities(DoctorContext c)
    {
        ulong eff = CapabilitySets.Capget().Effective;
        var missing = s_needed.Where(n => !Capability.Has(eff, n.Cap) && !(n.Alternative is int alt && Capability.Has(eff, alt))).ToList();
        int count = Capability.Decode(eff).Count;
        string target = "";
        if (c.Pid is int pid)
        {
            ulong targetEff = c.Status.CapEff;
            target = $"; pid {pid} CapEff 0x{targetEff:x16} = {string.Join(',', Capability.Decode(targetEff))}";
        }
        string all = eff == 0 ? "none" : string.Join(',', Capability.Decode(eff));
        string evidence = $"capget(2) effective 0x{eff:x16} = {all}{target}";
        string absent = string.Join(", ", Enumerable.Range(0, Capability.Last + 1).Where(i => !Capability.Has(eff, i)).Select(Capability.Name));
        if (missing.Count == 0)
        {
            return CheckOutcome.Ok(absent.Length == 0 ? $"all {count}" : $"{count} (lacks {absent})", evidence);
        }
        string what = string.Join("; ", missing.Select(m => $"{Capability.Name(m.Cap)}: {m.Disables}"));
        return CheckOutcome.Warn($"missing {string.Join(", ", missing.Select(m => Capability.Name(m.Cap)))}", $"{evidence}; disabled: {what}", "run kscope as root, or grant it: setcap cap_bpf,cap_perfmon,cap_sys_admin,cap_sys_ptrace+ep kscope");
    }

    private static CheckOutcome Lsm(DoctorContext c)
    {
        Sourced<IReadOnlyList<string>> lsm;
        try
        {
            lsm = SecurityModules.Active();
        }
        catch (KernelException e)
        {
            return CheckOutcome.Skip("unknown", $"securityfs not mounted and not mountable: {e.Message}", "mount -t securityfs securityfs /sys/kernel/security (as root)");
        }
        return CheckOutcome.Ok(string.Join(",", lsm.Value), $"{lsm.Source} = {string.Join(",", lsm.Value)}");
    }

    private static CheckOutcome Selinux(DoctorContext c)
    {
        Sourced<string>? mode = SecurityModules.SelinuxMode();
        if (mode is null)
        {
            return CheckOutcome.Ok("disabled", "selinuxfs not mounted (/proc/self/mountinfo)");
        }
        Sourced<string>? label = SecurityModules.ProcessLabel(c.Pid, "selinux") ?? SecurityModules.ProcessLabel(c.Pid);
        return CheckOutcome.Ok($"{mode.Value}{(label is null ? "" : $", {c.TargetName} in {label.Value}")}", $"{mode.Source}{(label is null ? "" : $"; {label.Source} = {label.Value}")}");
    }

    private static CheckOutcome AppArmor(DoctorContext c)
    {
        const string Enabled = "/sys/module/apparmor/parameters/enabled";
        string? enabled = Procfs.TryReadText(Enabled)?.Trim();
        if (enabled != "Y")
        {
            return CheckOutcome.Ok("not active", enabled is null ? $"{Enabled} absent (AppArmor not built in)" : $"{Enabled} = {enabled}");
        }
        Sourced<string>? label = SecurityModules.ProcessLabel(c.Pid, "apparmor");
        return CheckOutcome.Ok(label?.Value ?? "unconfined", $"{Enabled} = Y; {label?.Source ?? "no apparmor attr"}");
    }

    private static CheckOutcome Seccomp(DoctorContext c)
    {
        ProcStatus s = c.Status;
        string filters = s.Get("Seccomp_filters") is string f ? $", {f} filter(s)" : "";
        string evidence = $"{s.Source}: Seccomp {s.Seccomp?.ToString(CultureInfo.InvariantCulture) ?? "(absent)"}{filters}";
        return s.Seccomp switch
        {
            null => CheckOutcome.Ok("unsupported", evidence + " (kernel without CONFIG_SECCOMP)"),
            0 => CheckOutcome.Ok("disabled", evidence),
            1 => CheckOutcome.Ok("strict", evidence),
            2 => CheckOutcome.Ok($"filter{filters}", evidence + "; a filter may hide syscalls (the probes above show what this process can call)"),
            int m => CheckOutcome.Ok($"mode {m}", evidence),
        };
    }

    private static CheckOutcome NoNewPrivs(DoctorContext c)
    {
        ProcStatus s = c.Status;
        return CheckOutcome.Ok(s.NoNewPrivs switch { 1 => "set", 0 => "not set", _ => "unknown" }, $"{s.Source}: NoNewPrivs {s.NoNewPrivs?.ToString(CultureInfo.InvariantCulture) ?? "(absent)"}");
    }

    private static CheckOutcome Lockdown(DoctorContext c)
    {
        Sourced<string>? mode;
        try
        {
            mode = SecurityModules.Lockdown();
        }
        catch (KernelException e)
        {
            return CheckOutcome.Skip("unknown", $"securityfs not mountable: {e.Message}");
        }
        if (mode is null)
        {
            return CheckOutcome.Ok("none", "no /sys/kernel/security/lockdown (lockdown LSM not built in)");
        }
        string evidence = $"{mode.Source} = [{mode.Value}]";
        return mode.Value switch
        {
            "none" => CheckOutcome.Ok("none", evidence),
            "integrity" => CheckOutcome.Ok("integrity", evidence + "; blocks bpf_probe_write_user, /dev/mem and unsigned modules, not tracing"),
            _ => CheckOutcome.Warn(mode.Value, evidence, "confidentiality lockdown blocks eBPF reads of kernel memory and kallsyms: kernel tracing is limited; boot with lockdown=integrity to trace"),
        };
    }

    private static CheckOutcome PtraceScope(DoctorContext c)
    {
        const string Name = "kernel.yama.ptrace_scope";
        long? v = Sysctl.ReadInt(Name);
        string evidence = v is null ? $"{Sysctl.PathOf(Name)} absent (Yama not active)" : $"{Sysctl.PathOf(Name)} = {v}";
        return v switch
        {
            null => CheckOutcome.Ok("yama not active", evidence),
            0 or 1 => CheckOutcome.Ok(v.Value.ToString(CultureInfo.InvariantCulture), evidence),
            2 => CheckOutcome.Ok("2 (admin only)", evidence + "; kscope needs CAP_SYS_PTRACE to read other processes"),
            _ => CheckOutcome.Warn($"{v} (no attach)", evidence, "ptrace is disabled until reboot: uprobes still work, reading other processes' memory does not"),
        };
    }

    private static CheckOutcome PerfEventParanoid(DoctorContext c)
    {
        const string Name = "kernel.perf_event_paranoid";
        long? v = Sysctl.ReadInt(Name);
        if (v is null)
        {
            return CheckOutcome.Skip("unknown", $"{Sysctl.PathOf(Name)} absent (CONFIG_PERF_EVENTS off?)");
        }
        ulong eff = CapabilitySets.Capget().Effective;
        bool privileged = Capability.Has(eff, Capability.Perfmon) || Capability.Has(eff, Capability.SysAdmin);
        string evidence = $"{Sysctl.PathOf(Name)} = {v}; kscope {(privileged ? "has" : "lacks")} CAP_PERFMON/CAP_SYS_ADMIN";
        return v > 1 && !privileged
            ? CheckOutcome.Warn(v.Value.ToString(CultureInfo.InvariantCulture), evidence, "without CAP_PERFMON kscope cannot profile: grant CAP_PERFMON or sysctl -w kernel.perf_event_paranoid=1")
            : CheckOutcome.Ok(v.Value.ToString(CultureInfo.InvariantCulture), evidence);
    }

    private static CheckOutcome KptrRestrict(DoctorContext c)
    {
        const string Name = "kernel.kptr_restrict";
        long? v = Sysctl.ReadInt(Name);
        string evidence = $"{Sysctl.PathOf(Name)} = {v?.ToString(CultureInfo.InvariantCulture) ?? "(absent)"}";
        return v >= 2
            ? CheckOutcome.Warn(v.Value.ToString(CultureInfo.InvariantCulture), evidence, "kernel addresses are hidden even from root: kernel stacks cannot be symbolized; sysctl -w kernel.kptr_restrict=1")
            : CheckOutcome.Ok(v?.ToString(CultureInfo.InvariantCulture) ?? "absent", evidence);
    }

    private static CheckOutcome UnprivilegedBpf(DoctorContext c)
    {
        const string Name = "kernel.unprivileged_bpf_disabled";
        long? v = Sysctl.ReadInt(Name);
        string evidence = $"{Sysctl.PathOf(Name)} = {v?.ToString(CultureInfo.InvariantCulture) ?? "(absent)"}";
        return v switch
        {
            null => CheckOutcome.Ok("absent", evidence),
            0 => CheckOutcome.Warn("0 (unprivileged eBPF allowed)", evidence, "unprivileged eBPF is an attack surface (Spectre gadgets, verifier bugs): sysctl -w kernel.unprivileged_bpf_disabled=2"),
            _ => CheckOutcome.Ok($"{v} (unprivileged eBPF disabled)", evidence),
        };
    }

    private static CheckOutcome RandomizeVaSpace(DoctorContext c)
    {
        const string Name = "kernel.randomize_va_space";
        long? v = Sysctl.ReadInt(Name);
        string evidence = $"{Sysctl.PathOf(Name)} = {v?.ToString(CultureInfo.InvariantCulture) ?? "(absent)"}";
        return v switch
        {
            2 => CheckOutcome.Ok("2 (stack, mmap, heap)", evidence),
            1 => CheckOutcome.Warn("1 (no heap randomisation)", evidence, "sysctl -w kernel.randomize_va_space=2"),
            0 => CheckOutcome.Fail("0 (ASLR off)", evidence, "sysctl -w kernel.randomize_va_space=2 (and remove it from sysctl.d)"),
            _ => CheckOutcome.Skip("unknown", evidence),
        };
    }

    private static CheckOutcome MeasuredAslr(DoctorContext c)
    {
        string cat = File.Exists("/bin/cat") ? "/bin/cat" : "/usr/bin/cat";
        AslrMeasurement.Result r = AslrMeasurement.Measure(10, cat);
        string Bits(string region) => r.BitsSeen.TryGetValue(region, out int? b) && b is int n ? $"{n}" : "n/a";
        string value = $"stack {Bits("stack")}, mmap {Bits("mmap")}, heap {Bits("heap")}, exe {Bits("exe")}, vdso {Bits("vdso")} bits";
        long? mmapRndBits = Sysctl.ReadInt("vm.mmap_rnd_bits");
        string evidence = $"{r.Samples} children '{cat} /proc/self/maps' started together; bits that differed between their bases" +
            $"{(mmapRndBits is null ? "" : $"; vm.mmap_rnd_bits = {mmapRndBits}")}";
        int stack = r.BitsSeen.GetValueOrDefault("stack") ?? 0, mmap = r.BitsSeen.GetValueOrDefault("mmap") ?? 0;
        if (stack == 0 || mmap == 0)
        {
            return CheckOutcome.Fail(value, evidence, "addresses repeat between runs: ASLR is off (kernel.randomize_va_space, personality ADDR_NO_RANDOMIZE, or norandmaps on the command line)");
        }
        if (mmap < 16 || (r.BitsSeen.GetValueOrDefault("heap") is 0))
        {
            return CheckOutcome.Warn(value, evidence, "weak randomisation: raise vm.mmap_rnd_bits and set kernel.randomize_va_space=2");
        }
        return CheckOutcome.Ok(value, evidence);
    }

    private static CheckOutcome Kaslr(DoctorContext c)
    {
        string cmdline = Procfs.ReadText("/proc/cmdline").Trim();
        bool off = TextParsing.Fields(cmdline).Contains("nokaslr");
        string? config = c.KernelConfig?.Value["RANDOMIZE_BASE"];
        ulong? text = KernelTextAddress();
        string evidence = $"/proc/cmdline {(off ? "has" : "lacks")} nokaslr; CONFIG_RANDOMIZE_BASE={config ?? "unknown"}; " +
            (text is null ? "/proc/kallsyms _text not found" : text == 0 ? "/proc/kallsyms hides addresses (kptr_restrict)" : $"/proc/kallsyms _text = 0x{text:x}");
        const ulong DefaultX64 = 0xffffffff81000000;
        if (off || config == "n")
        {
            return CheckOutcome.Fail("disabled", evidence, off ? "remove nokaslr from the kernel command line" : "build the kernel with CONFIG_RANDOMIZE_BASE=y");
        }
        if (text == DefaultX64 && System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.X64)
        {
            return CheckOutcome.Warn("not in effect", evidence + " (the unrandomised default)", "the kernel sits at its link address: the boot path (e.g. a VMM's direct kernel boot) skipped KASLR; boot through the decompressor or enable the VMM's KASLR support");
        }
        return CheckOutcome.Ok(text is null or 0 ? "enabled (address hidden)" : "enabled", evidence);
    }

    /// <summary>The address of _text from the first lines of /proc/kallsyms (0 when hidden); null when not found.</summary>
    private static ulong? KernelTextAddress()
    {
        using var reader = new StreamReader("/proc/kallsyms");
        for (int i = 0; i < 200 && reader.ReadLine() is string line; i++)
        {
            if (line.EndsWith(" _text", StringComparison.Ordinal) && ulong.TryParse(line.AsSpan(0, line.IndexOf(' ')), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong address))
            {
                return address;
            }
        }
        return null;
    }

    private static CheckOutcome CpuFlag(string flag, string without)
    {
        if (System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture != System.Runtime.InteropServices.Architecture.X64)
        {
            return CheckOutcome.Skip("n/a", $"{flag} is an x86 feature");
        }
        IReadOnlySet<string> flags = CpuInfo.Flags(Procfs.ReadText("/proc/cpuinfo"));
        return flags.Contains(flag)
            ? CheckOutcome.Ok("on", $"/proc/cpuinfo flags include {flag}")
            : CheckOutcome.Warn("off", $"/proc/cpuinfo flags lack {flag}", $"without {flag.ToUpperInvariant()} {without}: check the CPU model, the hypervisor's CPU flags and no{flag} on the kernel command line");
    }
}
