using System.IO.Compression;
using Kscope.Formats.Procfs;

namespace Kscope.Kernel.Host;

/// <summary>The running kernel's build configuration: /proc/config.gz (CONFIG_IKCONFIG_PROC), else /boot/config-RELEASE.</summary>
public static class KernelConfigReader
{
    /// <summary>Null when neither file exists (the options are then unknown).</summary>
    public static Sourced<KernelConfig>? Read()
    {
        const string Proc = "/proc/config.gz";
        if (File.Exists(Proc))
        {
            using var file = new FileStream(Proc, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.None);
            using var gzip = new GZipStream(file, CompressionMode.Decompress);
            using var reader = new StreamReader(gzip);
            return new(KernelConfig.Parse(reader.ReadToEnd(), Proc), Proc);
        }
        string boot = $"/boot/config-{Kscope.Native.Posix.Uname().Release}";
        return File.Exists(boot) ? new(KernelConfig.Parse(File.ReadAllText(boot), boot), boot) : null;
    }
}
