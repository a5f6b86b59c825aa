using System.IO.Compression;
using System.Text;

namespace Kscope.TestKit;

/// <summary>
/// What the probes read and fix on the machine, with no kscope code: /proc/self/mountinfo, mounts of
/// pseudo file systems, the kernel configuration, modules on disk, /proc/kallsyms.
/// </summary>
public static class MachineSetup
{
    private static readonly Lock s_lock = new();

    /// <summary>Where the probes mount what is missing, shared by every kscope test process and never unmounted.</summary>
    public const string MountBase = "/run/kscope-tests";

    public sealed record Mount(string MountPoint, string FsType, string Source, string SuperOptions)
    {
        public bool HasOption(string option) => SuperOptions.Split(',').Contains(option);
    }

    public static string Release { get; } = File.ReadAllText("/proc/sys/kernel/osrelease").Trim();

    /// <summary>/proc/self/mountinfo, parsed (octal escapes in mount points decoded).</summary>
    public static IReadOnlyList<Mount> Mounts()
    {
        var mounts = new List<Mount>();
        foreach (string line in File.ReadLines("/proc/self/mountinfo"))
        {
            string[] f = line.Split(' ');
            int dash = Array.IndexOf(f, "-");
            if (dash < 5 || dash + 1 >= f.Length)
            {
                continue;
            }
            mounts.Add(new Mount(Unescape(f[4]), f[dash + 1], f.Length > dash + 2 ? f[dash + 2] : "", f.Length > dash + 3 ? f[dash + 3] : ""));
        }
        return mounts;
    }

    /// <summary>True when the kernel registered <paramref name="fsType"/> (/proc/filesystems).</summary>
    public static bool KernelHasFileSystem(string fsType) =>
        File.ReadLines("/proc/filesystems").Any(l => l.Split('\t', StringSplitOptions.TrimEntries).LastOrDefault() == fsType);

    /// <summary>
    /// The mount point of a mount of <paramref name="fsType"/>, mounting it at <paramref name="target"/> first when none
    /// exists. Null with the reason when the kernel lacks the file system or the mount failed.
    /// </summary>
    public static string? EnsureMounted(string fsType, string target, out string evidence)
    {
        lock (s_lock)
        {
            if (Mounts().FirstOrDefault(m => m.FsType == fsType) is Mount existing)
            {
                evidence = $"{fsType} at {existing.MountPoint}";
                return existing.MountPoint;
            }
            if (!KernelHasFileSystem(fsType))
            {
                evidence = $"{fsType} is not in /proc/filesystems";
                return null;
            }
            if (!Requires.IsRoot())
            {
                evidence = $"{fsType} is not mounted and mounting it needs root";
                return null;
            }
            Directory.CreateDirectory(target);
            var (code, _, err) = Tools.Run("mount", "-t", fsType, fsType, target);
            if (code != 0)
            {
                evidence = $"{fsType} was not mounted; mount -t {fsType} at {target} failed: {err.Trim()}";
                return null;
            }
            evidence = $"{fsType} mounted now at {target} (the test environment had not mounted it)";
            return target;
        }
    }

    /// <summary>Runs mount(8); returns null on success, else its error text.</summary>
    public static string? MountAt(string fsType, string options, string target)
    {
        lock (s_lock)
        {
            Directory.CreateDirectory(target);
            var (code, _, err) = Tools.Run("mount", "-t", fsType, "-o", options, fsType, target);
            return code == 0 ? null : err.Trim();
        }
    }

    /// <summary>securityfs's mount point (mounted when missing), or null with why.</summary>
    public static string? SecurityFs(out string evidence) => EnsureMounted("securityfs", "/sys/kernel/security", out evidence);

    /// <summary>tracefs's mount point (mounted when missing), or null with why.</summary>
    public static string? TraceFs(out string evidence) => EnsureMounted("tracefs", "/sys/kernel/tracing", out evidence);

    private static readonly Lazy<(Dictionary<string, string>? Values, string Source)> s_config = new(ReadConfig);

    /// <summary>Where the kernel configuration was read from, or why it is not readable.</summary>
    public static string ConfigSource => s_config.Value.Source;

    /// <summary>The kernel configuration (CONFIG_X → y/m/value, "n" for "is not set"), or null when not readable.</summary>
    public static IReadOnlyDictionary<string, string>? Config => s_config.Value.Values;

    /// <summary>"CONFIG_X=y in /proc/config.gz", "CONFIG_X is not set in …", or "kernel configuration not readable".</summary>
    public static string ConfigEvidence(string option)
    {
        if (Config is not { } config)
        {
            return $"{option}: {ConfigSource}";
        }
        return config.TryGetValue(option, out string? v) && v != "n" ? $"{option}={v} in {ConfigSource}" : $"{option} is not set in {ConfigSource}";
    }

    private static (Dictionary<string, string>?, string) ReadConfig()
    {
        string? text = null, source = null;
        if (File.Exists("/proc/config.gz"))
        {
            using var gz = new GZipStream(File.OpenRead("/proc/config.gz"), CompressionMode.Decompress);
            using var reader = new StreamReader(gz, Encoding.UTF8);
            text = reader.ReadToEnd();
            source = "/proc/config.gz";
        }
        else if (File.Exists($"/boot/config-{Release}"))
        {
            text = File.ReadAllText($"/boot/config-{Release}");
            source = $"/boot/config-{Release}";
        }
        if (text is null)
        {
            return (null, $"kernel configuration not readable (no /proc/config.gz, no /boot/config-{Release})");
        }
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string line in text.Split('\n'))
        {
            if (line.StartsWith("CONFIG_", StringComparison.Ordinal) && line.IndexOf('=') is int eq and > 0)
            {
                values[line[..eq]] = line[(eq + 1)..].Trim('"');
            }
            else if (line.StartsWith("# CONFIG_", StringComparison.Ordinal) && line.EndsWith(" is not set", StringComparison.Ordinal))
            {
                values[line[2..^" is not set".Length]] = "n";
            }
        }
        return (values, source!);
    }

    /// <summary>True when the kernel loads modules (CONFIG_MODULES: /proc/modules exists).</summary>
    public static bool ModulesSupported => File.Exists("/proc/modules");

    /// <summary>The directory of this kernel's modules on disk.</summary>
    public static string ModuleDirectory => $"/lib/modules/{Release}";

    /// <summary>
    /// Loads <paramref name="module"/> when it exists on disk for this kernel; null when loaded (or already
    /// loaded), else why not (no module support, not on disk, modprobe failed).
    /// </summary>
    public static string? LoadModule(string module, params string[] parameters)
    {
        if (!ModulesSupported)
        {
            return "the kernel has no loadable modules (no /proc/modules: CONFIG_MODULES unset)";
        }
        if (File.ReadLines("/proc/modules").Any(l => l.StartsWith(module.Replace('-', '_') + " ", StringComparison.Ordinal)))
        {
            return null;
        }
        if (!Directory.Exists(ModuleDirectory))
        {
            return $"no {ModuleDirectory} on disk";
        }
        if (!Requires.IsRoot())
        {
            return $"loading module {module} needs root";
        }
        string? modprobe = Tools.Which("modprobe");
        if (modprobe is null)
        {
            return "modprobe not on PATH (apt-get install kmod)";
        }
        var (dry, _, _) = Tools.Run(modprobe, "-n", "-q", module);
        if (dry != 0)
        {
            return $"module {module} is not in {ModuleDirectory}";
        }
        lock (s_lock)
        {
            var (code, _, err) = Tools.Run(modprobe, [module, .. parameters]);
            return code == 0 ? null : $"modprobe {module}: {err.Trim()}";
        }
    }

    /// <summary>True when /proc/kallsyms names <paramref name="symbol"/> (a function the kernel was built with).</summary>
    public static bool HasKernelSymbol(string symbol)
    {
        foreach (string line in File.ReadLines("/proc/kallsyms"))
        {
            // "ffffffff81234560 T register_fprobe" (a module's symbols end with "\t[module]")
            int last = line.LastIndexOf(' ');
            ReadOnlySpan<char> name = line.AsSpan(last + 1);
            int tab = name.IndexOf('\t');
            if ((tab < 0 ? name : name[..tab]).SequenceEqual(symbol))
            {
                return true;
            }
        }
        return false;
    }

    private static string Unescape(string path)
    {
        if (!path.Contains('\\', StringComparison.Ordinal))
        {
            return path;
        }
        var sb = new StringBuilder();
        for (int i = 0; i < path.Length; i++)
        {
            if (path[i] == '\\' && i + 3 < path.Length)
            {
                sb.Append((char)Convert.ToInt32(path.Substring(i + 1, 3), 8));
                i += 3;
            }
            else
            {
                sb.Append(path[i]);
            }
        }
        return sb.ToString();
    }
}
