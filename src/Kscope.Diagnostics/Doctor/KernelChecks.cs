using Kscope.Kernel;
using Kscope.Kernel.Host;
using Kscope.Kernel.Host.Probes;
using Kscope.Native;

namespace Kscope.Diagnostics.Doctor;

/// <summary>Section 1: the running kernel, its syscalls (tried, not guessed), BTF, tracefs/debugfs, build options.</summary>
public static class KernelChecks
{
    /// <summary>Build options kscope cares about, and what their absence costs.</summary>
    private static readonly (string Option, string Needed)[] s_options =
    [
        ("BPF_SYSCALL", "every eBPF feature (trace, profile off-CPU, gadgets)"),
        ("BPF_JIT", "fast eBPF programs (the interpreter is slow or disabled)"),
        ("DEBUG_INFO_BTF", "CO-RE relocations and `kscope btf` (/sys/kernel/btf/vmlinux)"),
        ("BPF_EVENTS", "attaching eBPF to tracepoints, kprobes and uprobes"),
        ("BPF_LSM", "LSM eBPF programs"),
        ("KPROBES", "kernel-function gadgets (kprobe-based tracing)"),
        ("UPROBES", "user-space probes (Go/.NET function tracing)"),
        ("FTRACE", "tracefs and tracepoints"),
        ("PERF_EVENTS", "CPU profiling and perf-event-based eBPF"),
        ("CGROUPS", "cgroup limits and per-container filtering"),
        ("CGROUP_BPF", "cgroup-attached eBPF programs"),
        ("IKCONFIG_PROC", "this very check (/proc/config.gz)"),
    ];

    public static IReadOnlyList<DoctorCheck> All { get; } = Build();

    private static List<DoctorCheck> Build()
    {
        var checks = new List<DoctorCheck>
        {
            new("kernel.release", DoctorSection.Kernel, "kernel release", Release),
        };
        foreach (string feature in KernelProbes.Names)
        {
            checks.Add(new($"kernel.syscall.{feature}", DoctorSection.Kernel, $"syscall {feature}", c => Syscall(c, feature)));
        }
        checks.Add(new("kernel.btf", DoctorSection.Kernel, "BTF (/sys/kernel/btf/vmlinux)", Btf));
        checks.Add(new("kernel.tracefs", DoctorSection.Kernel, "tracefs", _ => Filesystem(SpecialFilesystems.TraceFs, CheckStatus.Fail, "tracepoints and uprobes via tracefs")));
        checks.Add(new("kernel.debugfs", DoctorSection.Kernel, "debugfs", _ => Filesystem(SpecialFilesystems.DebugFs, CheckStatus.Warn, "legacy /sys/kernel/debug/tracing paths")));
        foreach (var (option, needed) in s_options)
        {
            checks.Add(new($"kernel.config.{option.ToLowerInvariant()}", DoctorSection.Kernel, $"CONFIG_{option}", c => Config(c, option, needed)));
        }
        return checks;
    }

    private static CheckOutcome Release(DoctorContext context)
    {
        var uts = Posix.Uname();
        return CheckOutcome.Ok($"{uts.Release} ({uts.Machine})", $"uname(2): {uts.SysName} {uts.Release} {uts.Version}");
    }

    private static CheckOutcome Syscall(DoctorContext context, string feature)
    {
        ProbeResult r = context.Probe(feature);
        bool core = feature is KernelProbes.Bpf or KernelProbes.PerfEventOpen;
        return r.Status switch
        {
            FeatureStatus.Present => CheckOutcome.Ok("present", r.Evidence),
            FeatureStatus.Absent => core
                ? CheckOutcome.Fail("absent", r.Evidence, $"kscope's tracing and profiling need {feature}: use a kernel built with it and not filtered by seccomp")
                : CheckOutcome.Warn("absent", r.Evidence, $"services using {feature} fall back or fail: use a kernel that has it (and a seccomp profile that allows it)"),
            _ => CheckOutcome.Skip("could not test", r.Evidence, "run kscope as root (or with CAP_BPF, CAP_PERFMON) to test it"),
        };
    }

    private static CheckOutcome Btf(DoctorContext context)
    {
        const string Path = "/sys/kernel/btf/vmlinux";
        var info = new FileInfo(Path);
        if (!info.Exists)
        {
            return CheckOutcome.Fail("absent", $"stat {Path}: No such file or directory (ENOENT)", "use a kernel built with CONFIG_DEBUG_INFO_BTF=y (most distribution kernels since 2020)");
        }
        using var fd = Posix.Open(Path, OpenFlags.O_RDONLY);
        Span<byte> magic = stackalloc byte[2];
        int n = Posix.Read(fd, magic, $"read {Path}");
        bool valid = n == 2 && magic[0] == 0x9f && magic[1] == 0xeb;
        return valid
            ? CheckOutcome.Ok($"present ({info.Length / 1024} KiB)", $"read {Path}: BTF magic 0xeb9f, {info.Length} bytes")
            : CheckOutcome.Fail("unreadable", $"read {Path}: no BTF magic", "the file exists but is not BTF: check the kernel build");
    }

    private static CheckOutcome Filesystem(string type, CheckStatus whenMissing, string needed)
    {
        string? mounted = SpecialFilesystems.MountPointOf(type);
        if (mounted is not null)
        {
            return CheckOutcome.Ok($"mounted at {mounted}", $"/proc/self/mountinfo: {type} on {mounted}");
        }
        try
        {
            var (at, _) = SpecialFilesystems.Ensure(type);
            return CheckOutcome.Ok($"mounted now at {at}", $"not in /proc/self/mountinfo; mount(\"{type}\", \"{at}\", \"{type}\") = 0");
        }
        catch (KernelException e)
        {
            string fix = $"{needed} need it: mount -t {type} {type} {SpecialFilesystems.StandardMountPoint(type)} (as root)";
            return whenMissing == CheckStatus.Fail
                ? CheckOutcome.Fail("not mountable", $"not mounted; {e.Message}", fix)
                : CheckOutcome.Warn("not mountable", $"not mounted; {e.Message}", fix);
        }
    }

    private static CheckOutcome Config(DoctorContext context, string option, string needed)
    {
        if (context.KernelConfig is not { } config)
        {
            return CheckOutcome.Skip("unknown", "/proc/config.gz and /boot/config-RELEASE are absent", "load the configs module (modprobe configs) or install the kernel's config file");
        }
        string? value = config.Value[option];
        string evidence = $"{config.Source}: CONFIG_{option}={value ?? "(not mentioned)"}";
        return value switch
        {
            "y" or "m" => CheckOutcome.Ok(value, evidence),
            null or "n" => CheckOutcome.Warn("n", evidence, $"without it kscope loses {needed}"),
            _ => CheckOutcome.Ok(value, evidence),
        };
    }
}
