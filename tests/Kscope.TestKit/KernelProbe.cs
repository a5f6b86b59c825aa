namespace Kscope.TestKit;

/// <summary>
/// Everything a test may skip for: a feature this machine's kernel (or the way it was booted) cannot
/// provide, decided by a probe in <see cref="KernelProbes"/> that shows its evidence in the skip reason
/// ("kernel lacks NAME: evidence"). .ci/check-skips fails CI on any skip reason that does not name one of
/// these. A probe first sets up what a test environment may lack and fix (mount tracefs, securityfs or
/// cgroup2, mount a free cgroup controller, load a module that exists on disk, mknod /dev/kvm for a
/// registered kvm device): what it can fix is never a skip.
/// </summary>
public enum KernelProbe
{
    /// <summary>The running kernel's BTF, /sys/kernel/btf/vmlinux (CONFIG_DEBUG_INFO_BTF).</summary>
    Btf,

    /// <summary>A loaded module with its own split BTF in /sys/kernel/btf (one on disk is loaded first).</summary>
    ModuleBtf,

    /// <summary>The kernel's configuration: /proc/config.gz (the configs module is loaded first) or /boot/config-RELEASE.</summary>
    KernelConfig,

    /// <summary>The kprobe PMU, /sys/bus/event_source/devices/kprobe (CONFIG_KPROBES).</summary>
    KprobePmu,

    /// <summary>tracefs kprobe_events, the legacy kprobe interface (CONFIG_KPROBE_EVENTS; tracefs is mounted first).</summary>
    KprobeEvents,

    /// <summary>kprobe multi links: BPF_TRACE_KPROBE_MULTI in the kernel's BTF (5.18+) and fprobe (CONFIG_FPROBE).</summary>
    KprobeMulti,

    /// <summary>BPF trampolines: an fentry program on do_sys_openat2 loads and attaches.</summary>
    BpfTrampoline,

    /// <summary>tp_btf programs: a BPF_TRACE_RAW_TP program on btf_trace_sys_enter loads and attaches.</summary>
    TracepointBtf,

    /// <summary>The BPF LSM: "bpf" among the active LSMs (securityfs is mounted first) and an LSM program on file_open attaches.</summary>
    BpfLsm,

    /// <summary>The lockdown LSM, /sys/kernel/security/lockdown (securityfs is mounted first).</summary>
    Lockdown,

    /// <summary>A kvm device registered by the kernel, /sys/class/misc/kvm (kvm modules on disk are loaded first; a missing /dev/kvm node is created).</summary>
    Kvm,

    /// <summary>The cgroup2 file system (mounted first when no cgroup2 mount exists).</summary>
    CgroupV2,

    /// <summary>The cpu cgroup controller, enabled in /proc/cgroups (mounted when no hierarchy has it).</summary>
    CgroupCpu,

    /// <summary>The memory cgroup controller, enabled in /proc/cgroups (mounted when no hierarchy has it).</summary>
    CgroupMemory,

    /// <summary>The pids cgroup controller, enabled in /proc/cgroups (mounted when no hierarchy has it).</summary>
    CgroupPids,

    /// <summary>The cpuset cgroup controller, enabled in /proc/cgroups (mounted when no hierarchy has it).</summary>
    CgroupCpuset,

    /// <summary>cpu on the unified (v2) hierarchy: absent when a v1 hierarchy holds it (hybrid mode).</summary>
    CgroupV2Cpu,

    /// <summary>memory on the unified (v2) hierarchy: absent when a v1 hierarchy holds it (hybrid mode).</summary>
    CgroupV2Memory,

    /// <summary>cpuset on the unified (v2) hierarchy: absent when a v1 hierarchy holds it (hybrid mode).</summary>
    CgroupV2Cpuset,

    /// <summary>cpu on a v1 hierarchy: absent when the unified hierarchy uses it (pure v2: a v1 mount is refused).</summary>
    CgroupV1Cpu,
}
