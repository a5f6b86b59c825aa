using Kscope.Native;
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
            return new(KernelConfig.Read(InputFile.ReadAllBytes(Proc, KernelConfig.MaxBytes), Proc), Proc);
        }
        string boot = $"/boot/config-{Posix.Uname().Release}";
        return File.Exists(boot) ? new(KernelConfig.Read(InputFile.ReadAllBytes(boot, KernelConfig.MaxBytes), boot), boot) : null;
    }
}
