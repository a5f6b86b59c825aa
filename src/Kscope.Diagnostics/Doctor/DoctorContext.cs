using Kscope.Formats.Procfs;
using Kscope.Kernel.Host;
using Kscope.Kernel.Host.Probes;

namespace Kscope.Diagnostics.Doctor;

/// <summary>
/// What the checks share, read once (lazily, thread-safe): the target process (kscope itself or --pid),
/// its status, cgroup limits and environment, the kernel config, kscope's own capabilities.
/// A reader's exception is cached and rethrown to every check that needs it; the runner turns it into a skip.
/// </summary>
public sealed class DoctorContext
{
    private readonly Lazy<ProcStatus> _status;
    private readonly Lazy<CgroupLimits> _limits;
    private readonly Lazy<IReadOnlyDictionary<string, string>> _environment;
    private readonly Lazy<Sourced<KernelConfig>?> _config;
    private readonly Lazy<ProcStatus> _selfStatus;
    private readonly Lazy<string?> _goVersion;

    public DoctorContext(int? pid)
    {
        Pid = pid;
        _status = new(() => Procfs.Status(pid));
        _selfStatus = new(() => pid is null ? _status.Value : Procfs.Status());
        _limits = new(() => CgroupLimits.Read(pid));
        _environment = new(() => pid is null ? CurrentEnvironment() : Procfs.Environ(pid));
        _config = new(KernelConfigReader.Read);
        _goVersion = new(() => pid is null ? null : GoBinaryVersion.Read($"/proc/{pid}/exe"));
    }

    /// <summary>The target process; null means kscope itself.</summary>
    public int? Pid { get; }

    public string TargetName => Pid is int p ? $"pid {p}" : "kscope";

    public ProcStatus Status => _status.Value;

    /// <summary>kscope's own status (capabilities decide what kscope can do, whatever the target).</summary>
    public ProcStatus SelfStatus => _selfStatus.Value;

    public CgroupLimits Limits => _limits.Value;

    /// <summary>The target's environment: /proc/PID/environ (its initial environment), or kscope's own.</summary>
    public IReadOnlyDictionary<string, string> Environment => _environment.Value;

    public string EnvironmentSource => Pid is int p ? $"/proc/{p}/environ" : "kscope's environment";

    public Sourced<KernelConfig>? KernelConfig => _config.Value;

    /// <summary>The Go version ("go1.22.5") the target was built with; null when it is not a Go binary (or kscope itself).</summary>
    public string? TargetGoVersion => _goVersion.Value;

    public ProbeResult Probe(string feature) => KernelProbes.Probe(feature);

    private static Dictionary<string, string> CurrentEnvironment()
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry e in System.Environment.GetEnvironmentVariables())
        {
            env[(string)e.Key] = (string?)e.Value ?? "";
        }
        return env;
    }
}
