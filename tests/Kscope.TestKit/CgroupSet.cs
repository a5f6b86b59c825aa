using System.Diagnostics;
using System.Globalization;

namespace Kscope.TestKit;

/// <summary>
/// One cgroup made the way container runtimes make them: the same relative path (e.g.
/// <c>kscope-svc-123-ab/docker-ID.scope</c>) in the unified (v2) hierarchy and in the v1 hierarchies of
/// the cpu, cpuacct and perf_event controllers that are mounted (hybrid hosts), optionally with a CPU
/// quota (v2 <c>cpu.max</c> where the v2 hierarchy has the cpu controller, else v1
/// <c>cpu.cfs_quota_us</c>). Dispose kills whatever is still inside and removes every directory.
/// Uses only the BCL, so any test project can use it.
/// </summary>
public sealed class CgroupSet : IDisposable
{
    private static readonly string[] s_v1Controllers = ["cpu", "cpuacct", "perf_event"];
    private readonly List<(string Root, string Relative)> _created = [];

    private CgroupSet(string relative) => Relative = relative;

    /// <summary>The path below each hierarchy's mount point, without a leading slash.</summary>
    public string Relative { get; }

    /// <summary>The leaf directory in the unified (v2) hierarchy; null when none is mounted.</summary>
    public string? Unified { get; private set; }

    /// <summary>The leaf directory per v1 controller (cpu, cpuacct, perf_event), where that controller is mounted.</summary>
    public IReadOnlyDictionary<string, string> V1 => _v1;

    private readonly Dictionary<string, string> _v1 = new(StringComparer.Ordinal);

    /// <summary>The directory whose files hold the CPU quota (v2 cpu.max or v1 cpu.cfs_quota_us), when one was set.</summary>
    public string? QuotaDir { get; private set; }

    /// <summary>Every leaf directory (one per hierarchy), unified first.</summary>
    public IEnumerable<string> Dirs => (Unified is null ? [] : new[] { Unified }).Concat(_v1.Values.Distinct(StringComparer.Ordinal));

    /// <summary>A shell command list that moves the shell (<c>$$</c>) into every leaf; follow it with <c>&amp;&amp; exec …</c>.</summary>
    public string EnterScript => string.Join(" && ", Dirs.Select(d => $"echo $$ > '{Path.Combine(d, "cgroup.procs")}'"));

    /// <summary>
    /// Creates <paramref name="relative"/> in every hierarchy named above. <paramref name="cpuQuota"/> (CPUs,
    /// e.g. 0.5) is set where the cpu controller is; when no hierarchy has it, the test skips (the kernel lacks it).
    /// </summary>
    public static CgroupSet Create(string relative, double? cpuQuota = null)
    {
        Requires.Root();
        var set = new CgroupSet(relative.Trim('/'));
        try
        {
            // The probes mount what the environment lacks (cgroup2, a free cpu controller) before the mounts are read.
            _ = MachineProbes.Check(KernelProbe.CgroupV2);
            if (cpuQuota is not null)
            {
                _ = MachineProbes.Check(KernelProbe.CgroupCpu);
            }
            (string? v2, List<(string MountPoint, string[] Controllers)> v1) = Mounts();
            if (v2 is null && v1.Count == 0)
            {
                Requires.KernelLacks(KernelProbe.CgroupV2, "no cgroup hierarchy is mounted");
            }
            bool v2Cpu = v2 is not null && File.Exists(Path.Combine(v2, "cgroup.controllers")) &&
                         File.ReadAllText(Path.Combine(v2, "cgroup.controllers")).Split(' ', StringSplitOptions.TrimEntries).Contains("cpu");
            if (v2 is not null)
            {
                set.Unified = set.Make(v2, enableCpu: cpuQuota is not null && v2Cpu);
            }
            foreach ((string mountPoint, string[] controllers) in v1)
            {
                string dir = set.Make(mountPoint, enableCpu: false);
                foreach (string c in controllers)
                {
                    set._v1[c] = dir;
                }
            }
            if (cpuQuota is double cpus)
            {
                long period = 100_000;
                long quota = Math.Max(1000, (long)(cpus * period));
                if (v2Cpu)
                {
                    set.QuotaDir = set.Unified;
                    File.WriteAllText(Path.Combine(set.Unified!, "cpu.max"), $"{quota} {period}");
                }
                else if (set._v1.TryGetValue("cpu", out string? cpu))
                {
                    set.QuotaDir = cpu;
                    File.WriteAllText(Path.Combine(cpu, "cpu.cfs_period_us"), period.ToString(CultureInfo.InvariantCulture));
                    File.WriteAllText(Path.Combine(cpu, "cpu.cfs_quota_us"), quota.ToString(CultureInfo.InvariantCulture));
                }
                else
                {
                    Requires.KernelLacks(KernelProbe.CgroupCpu, "no mounted hierarchy has the cpu controller");
                }
            }
            return set;
        }
        catch
        {
            set.Dispose();
            throw;
        }
    }

    /// <summary>The pids in the leaf of every hierarchy (union).</summary>
    public IReadOnlyList<int> Pids()
    {
        var pids = new SortedSet<int>();
        foreach (string dir in Dirs)
        {
            try
            {
                foreach (string line in File.ReadAllLines(Path.Combine(dir, "cgroup.procs")))
                {
                    if (int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
                    {
                        pids.Add(pid);
                    }
                }
            }
            catch (IOException)
            {
            }
        }
        return [.. pids];
    }

    public void Dispose()
    {
        // Kill what is left inside (a leaked child), then remove the leaves before their parents.
        for (int attempt = 0; attempt < 250 && _created.Count > 0; attempt++)
        {
            foreach (int pid in Pids())
            {
                try
                {
                    using Process p = Process.GetProcessById(pid);
                    p.Kill();
                }
                catch (ArgumentException)
                {
                }
                catch (InvalidOperationException)
                {
                }
                catch (System.ComponentModel.Win32Exception)
                {
                }
            }
            for (int i = _created.Count - 1; i >= 0; i--)
            {
                string dir = Path.Combine(_created[i].Root, _created[i].Relative);
                try
                {
                    if (Directory.Exists(dir))
                    {
                        Directory.Delete(dir);
                    }
                    _created.RemoveAt(i);
                }
                catch (IOException)
                {
                    // EBUSY: a killed task leaves its cgroup asynchronously; a child dir not removed yet.
                }
                catch (UnauthorizedAccessException)
                {
                }
            }
            if (_created.Count > 0)
            {
                Thread.Sleep(20);
            }
        }
    }

    /// <summary>mkdir -p of <see cref="Relative"/> under <paramref name="root"/>, recording each level created.</summary>
    private string Make(string root, bool enableCpu)
    {
        string relative = "";
        foreach (string part in Relative.Split('/'))
        {
            if (enableCpu)
            {
                // v2: a child gets the cpu files only once its parent enables the controller for it (TempCgroup owns
                // the writes: the unified root's once per process, under its lock).
                TempCgroup.EnableController(root, Path.Combine(root, relative), "cpu");
            }
            relative = relative.Length == 0 ? part : relative + "/" + part;
            string dir = Path.Combine(root, relative);
            if (!Directory.Exists(dir))
            {
                Directory.CreateDirectory(dir);
                _created.Add((root, relative));
            }
        }
        return Path.Combine(root, relative);
    }

    /// <summary>The v2 mount point and the v1 mounts of the controllers a service's cgroup uses, from /proc/self/mounts.</summary>
    private static (string? V2, List<(string MountPoint, string[] Controllers)> V1) Mounts()
    {
        string? v2 = null;
        var v1 = new List<(string, string[])>();
        foreach (string line in File.ReadAllLines("/proc/self/mounts"))
        {
            string[] f = line.Split(' ');
            if (f.Length < 4)
            {
                continue;
            }
            string mountPoint = f[1].Replace("\\040", " ", StringComparison.Ordinal);
            if (f[2] == "cgroup2")
            {
                v2 ??= mountPoint;
            }
            else if (f[2] == "cgroup")
            {
                string[] controllers = f[3].Split(',').Where(o => s_v1Controllers.Contains(o)).ToArray();
                if (controllers.Length > 0)
                {
                    v1.Add((mountPoint, controllers));
                }
            }
        }
        return (v2, v1);
    }
}
