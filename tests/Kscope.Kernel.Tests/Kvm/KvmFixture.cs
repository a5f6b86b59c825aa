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
            Requires.KernelLacks($"/dev/kvm ({e.Message})");
            throw;
        }
    }

    public static string Text(List<byte> bytes) => System.Text.Encoding.ASCII.GetString(bytes.ToArray());
}
