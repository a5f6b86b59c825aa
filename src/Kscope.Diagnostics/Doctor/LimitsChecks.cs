using System.Globalization;
using Kscope.Formats.Cgroups;
using Kscope.Formats.Procfs;
using Kscope.Kernel;
using Kscope.Kernel.Host;
using Kscope.Kernel.Host.Probes;

namespace Kscope.Diagnostics.Doctor;

/// <summary>Section 2: what the target (kscope or --pid) may use: cgroups, CPUs, quota, memory, rlimits, and the concurrency a Go or .NET runtime should pick.</summary>
public static class LimitsChecks
{
    private const ulong RlimitNofile = 7, RlimitMemlock = 8;

    public static IReadOnlyList<DoctorCheck> All { get; } =
    [
        new("limits.cgroup.mode", DoctorSection.Limits, "cgroup mode", Mode),
        new("limits.cgroup.paths", DoctorSection.Limits, "cgroup paths", Paths),
        new("limits.cpus", DoctorSection.Limits, "effective CPUs", Cpus),
        new("limits.cpu.quota", DoctorSection.Limits, "CPU quota", Quota),
        new("limits.cpu.throttling", DoctorSection.Limits, "CPU throttling", Throttling),
        new("limits.memory", DoctorSection.Limits, "memory limit", Memory),
        new("limits.pids", DoctorSection.Limits, "pids limit", Pids),
        new("limits.rlimit.nofile", DoctorSection.Limits, "RLIMIT_NOFILE", c => Rlimit(c, "Max open files", RlimitNofile)),
        new("limits.rlimit.memlock", DoctorSection.Limits, "RLIMIT_MEMLOCK", c => Rlimit(c, "Max locked memory", RlimitMemlock)),
        new("limits.vm.max_map_count", DoctorSection.Limits, "vm.max_map_count", MaxMapCount),
        new("limits.numa", DoctorSection.Limits, "NUMA nodes", Numa),
        new("limits.gomaxprocs", DoctorSection.Limits, "GOMAXPROCS vs quota", GoMaxProcs),
        new("limits.dotnet_processor_count", DoctorSection.Limits, "DOTNET_PROCESSOR_COUNT vs quota", DotnetProcessorCount),
    ];

    private static CheckOutcome Mode(DoctorContext c)
    {
        CgroupLimits l = c.Limits;
        string hierarchies = string.Join("; ", l.Hierarchies.Select(h => h.Version == 2
            ? $"v2 {h.MountPoint} [{string.Join(',', h.Controllers)}]"
            : $"v1 {h.MountPoint} [{(h.Name is null ? string.Join(',', h.Controllers) : "name=" + h.Name)}]"));
        return l.Mode == CgroupMode.None
            ? CheckOutcome.Warn("none", "/proc/self/mountinfo: no cgroup or cgroup2 mounts", "mount cgroup2 at /sys/fs/cgroup (limits and per-container filtering need it)")
            : CheckOutcome.Ok(l.Mode.ToString().ToLowerInvariant(), $"/proc/self/mountinfo: {hierarchies}");
    }

    private static CheckOutcome Paths(DoctorContext c)
    {
        CgroupLimits l = c.Limits;
        string value = string.Join(", ", l.Cgroups
            .Where(g => g.Hierarchy.Version == 2 || g.Hierarchy.Controllers.Count > 0)
            .Select(g => $"{(g.Hierarchy.Version == 2 ? "v2" : string.Join(',', g.Hierarchy.Controllers))}:{g.Path}"));
        return CheckOutcome.Ok(value, $"{Procfs.Dir(c.Pid)}/cgroup -> {string.Join(", ", l.Cgroups.Select(g => g.Directory))}");
    }

    private static CheckOutcome Cpus(DoctorContext c)
    {
        Sourced<IReadOnlyList<int>> cpus = c.Limits.EffectiveCpus;
        IReadOnlyList<int> online = CgroupLimits.OnlineCpus();
        string value = $"{cpus.Value.Count} ({CpuList.Format(cpus.Value)}) of {online.Count} online";
        return cpus.Value.Count == 0
            ? CheckOutcome.Fail("0", cpus.Source, "the cpuset and affinity leave no CPU: fix cpuset.cpus or taskset")
            : CheckOutcome.Ok(value, $"{cpus.Source}; /sys/devices/system/cpu/online = {CpuList.Format(online)}");
    }

    private static CheckOutcome Quota(DoctorContext c)
    {
        Sourced<CpuMax>? q = c.Limits.CpuQuota;
        if (q is null)
        {
            string where = CgroupLimits.Controller(c.Limits.Cgroups, "cpu")?.Directory ?? "no cpu controller";
            return CheckOutcome.Ok("none", $"no CPU quota on the cgroup or its ancestors ({where})");
        }
        double cpus = q.Value.Cpus!.Value;
        return CheckOutcome.Ok($"{Fmt(cpus)} CPUs", $"{q.Source}: {q.Value.QuotaMicroseconds} µs per {q.Value.PeriodMicroseconds} µs period");
    }

    private static CheckOutcome Throttling(DoctorContext c)
    {
        CpuThrottling? t = c.Limits.Throttling;
        if (t is null)
        {
            return CheckOutcome.Ok("n/a", "no cpu.stat with CFS bandwidth counters (no cpu controller for this cgroup)");
        }
        string evidence = $"{t.Source}: nr_periods {t.Periods}, nr_throttled {t.ThrottledPeriods}, throttled {t.ThrottledMicroseconds} µs";
        if (t.ThrottledShare is not double share)
        {
            return CheckOutcome.Ok("no periods yet", evidence);
        }
        string value = $"{Fmt(share * 100)}% of {t.Periods} periods ({Fmt(t.ThrottledMicroseconds / 1e6)} s)";
        return share > 0.01
            ? CheckOutcome.Warn(value, evidence, "CPU throttled: lower the process's parallelism (GOMAXPROCS / thread pools) to the quota or raise the quota")
            : CheckOutcome.Ok(value, evidence);
    }

    private static CheckOutcome Memory(DoctorContext c)
    {
        Sourced<ulong>? limit = c.Limits.MemoryLimit, usage = c.Limits.MemoryUsage;
        string usageText = usage is null ? "" : $", using {Bytes(usage.Value)}";
        string evidence = string.Join("; ", new[] { limit?.Source, usage?.Source }.Where(s => s is not null));
        if (limit is null)
        {
            return CheckOutcome.Ok($"none{usageText}", evidence.Length == 0 ? "no memory controller for this process" : $"no limit along the ancestry; {evidence}");
        }
        string value = $"{Bytes(limit.Value)}{usageText}";
        return usage is not null && usage.Value > limit.Value * 0.9
            ? CheckOutcome.Warn(value, evidence, "usage above 90% of the limit: expect reclaim stalls and OOM kills; raise the limit")
            : CheckOutcome.Ok(value, evidence);
    }

    private static CheckOutcome Pids(DoctorContext c)
    {
        Sourced<ulong>? limit = c.Limits.PidsLimit, current = c.Limits.PidsCurrent;
        string currentText = current is null ? "" : $", {current.Value} in use";
        if (limit is null)
        {
            return CheckOutcome.Ok($"none{currentText}", current?.Source ?? "no pids controller for this process");
        }
        string value = $"{limit.Value}{currentText}";
        string evidence = $"{limit.Source}{(current is null ? "" : "; " + current.Source)}";
        return current is not null && current.Value > limit.Value * 0.9
            ? CheckOutcome.Warn(value, evidence, "near the pids limit: fork/clone and thread creation will fail with EAGAIN; raise pids.max")
            : CheckOutcome.Ok(value, evidence);
    }

    private static CheckOutcome Rlimit(DoctorContext c, string row, ulong resource)
    {
        string source = $"{Procfs.Dir(c.Pid)}/limits";
        ProcLimit limit = Procfs.Limits(c.Pid).FirstOrDefault(l => l.Name == row) ?? throw new InvalidOperationException($"{source} has no '{row}' row");
        string value = $"soft {Limit(limit.Soft)}, hard {Limit(limit.Hard)}";
        string evidence = $"{source}: {row} {Limit(limit.Soft)} {Limit(limit.Hard)}";
        if (resource == RlimitNofile)
        {
            return limit.Soft < 4096
                ? CheckOutcome.Warn(value, evidence, "servers run out of descriptors (EMFILE): raise it (LimitNOFILE= in systemd, ulimit -n, or the container runtime's nofile)")
                : CheckOutcome.Ok(value, evidence);
        }
        // RLIMIT_MEMLOCK only limits eBPF memory on kernels before 5.11 (later ones charge the memory cgroup):
        // the bpf probe creating a map under this limit says whether it matters here.
        ProbeResult bpf = c.Probe(KernelProbes.Bpf);
        if (limit.Soft == ProcLimit.Unlimited || bpf.Status == FeatureStatus.Present)
        {
            return CheckOutcome.Ok(value, bpf.Status == FeatureStatus.Present ? $"{evidence}; eBPF maps load under it ({bpf.Evidence})" : evidence);
        }
        return CheckOutcome.Warn(value, evidence, "kernels before 5.11 charge eBPF maps to RLIMIT_MEMLOCK: raise it (ulimit -l unlimited, LimitMEMLOCK=infinity)");
    }

    private static CheckOutcome MaxMapCount(DoctorContext c)
    {
        const string Name = "vm.max_map_count";
        long? value = Sysctl.ReadInt(Name);
        if (value is null)
        {
            return CheckOutcome.Skip("unknown", $"{Sysctl.PathOf(Name)} unreadable");
        }
        string evidence = $"{Sysctl.PathOf(Name)} = {value}";
        return value < 65530
            ? CheckOutcome.Warn(value.Value.ToString(CultureInfo.InvariantCulture), evidence, "mmap-heavy runtimes (JVM, Elasticsearch, big Go heaps) fail with ENOMEM: sysctl -w vm.max_map_count=262144")
            : CheckOutcome.Ok(value.Value.ToString(CultureInfo.InvariantCulture), evidence);
    }

    private static CheckOutcome Numa(DoctorContext c)
    {
        const string Online = "/sys/devices/system/node/online";
        string? text = Procfs.TryReadText(Online);
        IReadOnlyList<int> nodes = text is null ? [0] : CpuList.Parse(text, Online);
        Sourced<IReadOnlyList<int>>? allowed = c.Limits.MemoryNodes;
        string value = $"{nodes.Count} node{(nodes.Count == 1 ? "" : "s")} ({CpuList.Format(nodes)}); cpuset allows {(allowed is null ? "all" : CpuList.Format(allowed.Value))}";
        string evidence = $"{(text is null ? "no " + Online + " (CONFIG_NUMA off): one node" : $"{Online} = {text.Trim()}")}; {allowed?.Source ?? "no cpuset"}";
        return CheckOutcome.Ok(value, evidence);
    }

    /// <summary>
    /// The concurrency the cgroup really gives: CPUs the process may run on, capped by the quota rounded up
    /// (what Go 1.25+ and .NET pick by themselves).
    /// </summary>
    public static (int Cpus, int Limit, double? Quota) Concurrency(DoctorContext c)
    {
        int cpus = c.Limits.EffectiveCpus.Value.Count;
        double? quota = c.Limits.CpuQuota?.Value.Cpus;
        return (cpus, ParallelismLimit(cpus, quota), quota);
    }

    /// <summary>What a runtime should use: min(CPUs, ceil(quota)), at least 1; the CPUs without a quota.</summary>
    public static int ParallelismLimit(int cpus, double? quota) => quota is double q ? Math.Max(1, Math.Min(cpus, (int)Math.Ceiling(q))) : cpus;

    /// <summary>Go 1.25+ sizes GOMAXPROCS from the quota (runtime/cgroup: min(CPUs, max(2, ceil(quota)))); older Go uses the CPU count.</summary>
    public static bool GoSizesFromQuota(string? goVersion) => GoBinaryVersion.Numbers(goVersion) is var (major, minor) && (major > 1 || minor >= 25);

    /// <summary>The GOMAXPROCS a Go 1.25+ runtime picks by default: min(CPUs, max(2, ceil(quota))), the CPUs without a quota.</summary>
    public static int GoQuotaDefault(int cpus, double? quota) => quota is double q ? Math.Min(cpus, Math.Max(2, (int)Math.Ceiling(q))) : cpus;

    private static CheckOutcome GoMaxProcs(DoctorContext c)
    {
        var (cpus, limit, quota) = Concurrency(c);
        string quotaText = quota is double q ? $"quota {Fmt(q)} CPUs" : "no quota";
        string go = c.TargetGoVersion ?? (c.Pid is null ? "kscope is not a Go program" : "not a Go binary");
        bool quotaAware = GoSizesFromQuota(c.TargetGoVersion);
        string fix = $"set GOMAXPROCS={limit} or raise the limit";
        if (c.Environment.TryGetValue("GOMAXPROCS", out string? set))
        {
            string evidence = $"{c.EnvironmentSource}: GOMAXPROCS={set}; {cpus} CPUs, {quotaText}; {go}";
            if (!int.TryParse(set, NumberStyles.None, CultureInfo.InvariantCulture, out int procs) || procs < 1)
            {
                return CheckOutcome.Warn($"GOMAXPROCS={set} (invalid)", evidence, $"Go ignores it: {fix}");
            }
            return procs > limit
                ? CheckOutcome.Warn($"GOMAXPROCS={procs} > {(quota is null ? $"{cpus} CPUs" : quotaText)}", evidence, fix)
                : CheckOutcome.Ok($"GOMAXPROCS={procs} (limit {limit})", evidence);
        }
        int modern = GoQuotaDefault(cpus, quota);
        string defaultEvidence = $"{c.EnvironmentSource}: GOMAXPROCS unset; {cpus} CPUs, {quotaText}; {go}";
        if (c.TargetGoVersion is null)
        {
            return CheckOutcome.Ok($"a Go service here should use {limit}", defaultEvidence + $"; Go before 1.25 would default to {cpus}, Go 1.25+ to {modern}");
        }
        int picked = quotaAware ? modern : cpus;
        string how = quotaAware ? $"{c.TargetGoVersion} sizes from the quota (at least 2)" : $"{c.TargetGoVersion} (before 1.25) ignores the CPU quota";
        if (picked <= limit)
        {
            return CheckOutcome.Ok($"default {picked} ({how})", defaultEvidence);
        }
        return CheckOutcome.Warn($"default GOMAXPROCS={picked} > {quotaText}", $"{defaultEvidence}; {how}",
            quotaAware ? fix : $"{fix}, or build with Go 1.25+ (or use go.uber.org/automaxprocs)");
    }

    private static CheckOutcome DotnetProcessorCount(DoctorContext c)
    {
        var (cpus, limit, quota) = Concurrency(c);
        string quotaText = quota is double q ? $"quota {Fmt(q)} CPUs" : "no quota";
        if (c.Environment.TryGetValue("DOTNET_PROCESSOR_COUNT", out string? set))
        {
            string evidence = $"{c.EnvironmentSource}: DOTNET_PROCESSOR_COUNT={set}; {cpus} CPUs, {quotaText}";
            if (!int.TryParse(set, NumberStyles.None, CultureInfo.InvariantCulture, out int procs) || procs < 1)
            {
                return CheckOutcome.Warn($"DOTNET_PROCESSOR_COUNT={set} (invalid)", evidence, $"the runtime ignores it: set DOTNET_PROCESSOR_COUNT={limit} or unset it");
            }
            return procs > limit
                ? CheckOutcome.Warn($"DOTNET_PROCESSOR_COUNT={procs} > {(quota is null ? $"{cpus} CPUs" : quotaText)}", evidence, $"set DOTNET_PROCESSOR_COUNT={limit} or unset it (.NET sizes from the quota by itself)")
                : CheckOutcome.Ok($"DOTNET_PROCESSOR_COUNT={procs} (limit {limit})", evidence);
        }
        string value = c.Pid is null ? $"unset; Environment.ProcessorCount = {Environment.ProcessorCount}" : $"unset; .NET would use {limit}";
        return CheckOutcome.Ok(value, $"{c.EnvironmentSource}: DOTNET_PROCESSOR_COUNT unset; .NET sizes ProcessorCount from affinity and quota ({cpus} CPUs, {quotaText})");
    }

    internal static string Fmt(double v) => v.ToString(v >= 100 ? "0" : v >= 10 ? "0.#" : "0.##", CultureInfo.InvariantCulture);

    internal static string Bytes(ulong b) => b switch
    {
        >= 1UL << 40 => $"{Fmt(b / (double)(1UL << 40))} TiB",
        >= 1UL << 30 => $"{Fmt(b / (double)(1UL << 30))} GiB",
        >= 1UL << 20 => $"{Fmt(b / (double)(1UL << 20))} MiB",
        >= 1UL << 10 => $"{Fmt(b / 1024.0)} KiB",
        _ => $"{b} B",
    };

    private static string Limit(ulong v) => v == ProcLimit.Unlimited ? "unlimited" : v.ToString(CultureInfo.InvariantCulture);
}
