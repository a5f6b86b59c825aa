using Kscope.Kernel.Kvm;
using Kscope.Native;

namespace Kscope.Kernel.Tests.Kvm;

/// <summary>
/// Opens /dev/kvm for a test. Skips only when the kernel registered no kvm device (KernelProbe.Kvm, which
/// first loads kvm modules on disk and creates a missing /dev/kvm node); Unmet when not root.
/// </summary>
internal static class KvmFixture
{
    public static KvmSystem Open()
    {
        Requires.Root();
        string device = Requires.Kernel(KernelProbe.Kvm);
        try
        {
            return KvmSystem.Open();
        }
        catch (KernelFeatureNotSupportedException e)
        {
            Requires.KernelLacks(KernelProbe.Kvm, $"KvmSystem.Open: {e.Message} (the probe saw {device})");
            throw;
        }
    }

    public static string Text(List<byte> bytes) => System.Text.Encoding.ASCII.GetString(bytes.ToArray());
}
