
namespace Kscope.TestKit;

/// <summary>
/// Preconditions of kernel tests. A test skips only when the kernel truly lacks a feature
/// (<see cref="KernelLacks"/>); any other unmet precondition (not root, a tool missing) skips
/// normally but FAILS under KSCOPE_STRICT=1, so a green CI means the kernel tests really ran.
/// </summary>
public static class Requires
{
    public static bool Strict => Environment.GetEnvironmentVariable("KSCOPE_STRICT") == "1";

    /// <summary>The kernel lacks a feature (proved by a probe): a legitimate skip, even in strict mode.</summary>
    public static void KernelLacks(string reason) => Assert.Skip($"kernel lacks: {reason}");

    /// <summary>Any other unmet precondition: skip, or fail when KSCOPE_STRICT=1.</summary>
    public static void Unmet(string reason)
    {
        if (Strict)
        {
            Assert.Fail($"KSCOPE_STRICT=1 and a precondition is unmet (this is not a kernel limitation): {reason}");
        }
        Assert.Skip(reason);
    }

    public static void Root()
    {
        if (!IsRoot())
        {
            Unmet("needs root (run the tests as root)");
        }
    }

    /// <summary>A reference tool on PATH (bpftool, pahole, go…); .ci/run installs them.</summary>
    public static string Tool(string name, string debianPackage)
    {
        string? path = Tools.Which(name);
        if (path is null)
        {
            Unmet($"'{name}' not on PATH (apt-get install {debianPackage}; .ci/run installs it)");
        }
        return path!;
    }

    private static bool IsRoot()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("Uid:", StringComparison.Ordinal))
                {
                    return line.Split('\t', StringSplitOptions.RemoveEmptyEntries)[2] == "0";
                }
            }
        }
        catch (IOException)
        {
        }
        return false;
    }
}
