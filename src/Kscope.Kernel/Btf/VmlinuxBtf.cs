using Kscope.Native;
using BtfTypes = Kscope.Formats.Btf.Btf;

namespace Kscope.Kernel.Btf;

/// <summary>
/// The running kernel's BTF (/sys/kernel/btf/vmlinux), loaded once per process and shared, and the
/// modules' split BTF (/sys/kernel/btf/MODULE) on top of it.
/// </summary>
public static class VmlinuxBtf
{
    public const string Directory = "/sys/kernel/btf";
    public const string Path = Directory + "/vmlinux";

    private static readonly Lock s_lock = new();
    private static BtfTypes? s_vmlinux;
    private static readonly Dictionary<string, BtfTypes> s_modules = new(StringComparer.Ordinal);

    public static bool IsAvailable => File.Exists(Path);

    /// <summary>The vmlinux BTF; throws <see cref="KernelFeatureNotSupportedException"/> when the kernel has none.</summary>
    public static BtfTypes Get()
    {
        if (s_vmlinux is { } cached)
        {
            return cached;
        }
        lock (s_lock)
        {
            return s_vmlinux ??= Load(Path, null);
        }
    }

    /// <summary>Modules with BTF on this machine (file names in /sys/kernel/btf except vmlinux).</summary>
    public static IReadOnlyList<string> ModuleNames()
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            return [];
        }
        return System.IO.Directory.EnumerateFiles(Directory)
            .Select(System.IO.Path.GetFileName)
            .Where(n => n is not null && n != "vmlinux")
            .Select(n => n!)
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>A module's split BTF over vmlinux (cached).</summary>
    public static BtfTypes GetModule(string module)
    {
        if (module.Contains('/') || module is "." or ".." or "vmlinux")
        {
            throw new ArgumentException($"bad module name '{module}'", nameof(module));
        }
        BtfTypes vmlinux = Get();
        lock (s_lock)
        {
            if (!s_modules.TryGetValue(module, out BtfTypes? btf))
            {
                btf = Load(System.IO.Path.Combine(Directory, module), vmlinux);
                s_modules[module] = btf;
            }
            return btf;
        }
    }

    /// <summary>vmlinux BTF is about 6 MB; 256 MiB is far beyond any kernel's and bounds what a bad file costs.</summary>
    private const long MaxBtfBytes = 256 << 20;

    private static BtfTypes Load(string path, BtfTypes? baseBtf)
    {
        if (!File.Exists(path))
        {
            throw baseBtf is null
                ? new KernelFeatureNotSupportedException("BTF type information (/sys/kernel/btf/vmlinux, CONFIG_DEBUG_INFO_BTF)", "5.4")
                : new KernelFeatureNotSupportedException($"BTF for module '{System.IO.Path.GetFileName(path)}' (CONFIG_DEBUG_INFO_BTF_MODULES, module loaded?)", "5.11");
        }
        return BtfTypes.Parse(InputFile.ReadAllBytes(path, MaxBtfBytes), baseBtf);
    }
}
