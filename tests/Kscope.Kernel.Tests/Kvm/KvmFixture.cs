using Kscope.Kernel.Kvm;
using Kscope.Native;

namespace Kscope.Kernel.Tests.Kvm;

/// <summary>Opens /dev/kvm for a test, or skips: KernelLacks when the device is missing, Unmet when not root.</summary>
internal static class KvmFixture
{
    public static KvmSystem Open()
    {
        Requires.Root();
        try
        {
            return KvmSystem.Open();
        }
        catch (KernelFeatureNotSupportedException e)
        {
            Requires.KernelLacks($"/dev/kvm ({e.Message}){NoVirtualization()}");
            throw;
        }
    }

    /// <summary>Why there is no /dev/kvm when the CPU itself offers no VMX/SVM (a QEMU TCG guest, as in tests/kernels).</summary>
    private static string NoVirtualization()
    {
        string flags = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal)) ?? "";
        return flags.Split(' ').Any(f => f is "vmx" or "svm") ? "" : "; the CPU has no vmx/svm flag (/proc/cpuinfo): emulated guests such as QEMU TCG have no hardware virtualization";
    }

    public static string Text(List<byte> bytes) => System.Text.Encoding.ASCII.GetString(bytes.ToArray());
}
