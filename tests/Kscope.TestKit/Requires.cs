using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;

namespace Kscope.TestKit;

/// <summary>
/// Preconditions of kernel tests. A test skips only when a named probe (<see cref="KernelProbe"/>) shows
/// this machine cannot provide a feature (<see cref="Kernel"/>, <see cref="KernelLacks"/>); the skip reason
/// is "kernel lacks NAME: evidence", which .ci/check-skips checks in CI. Any other unmet precondition (not
/// root, a tool missing, a probe that could not decide) skips normally but FAILS under KSCOPE_STRICT=1, so
/// a green CI means the kernel tests really ran.
/// </summary>
public static class Requires
{
    /// <summary>How every legitimate skip reason starts (followed by a <see cref="KernelProbe"/> name and ": ").</summary>
    public const string KernelLacksPrefix = "kernel lacks ";

    public static bool Strict => Environment.GetEnvironmentVariable("KSCOPE_STRICT") == "1";

    /// <summary>
    /// Runs <paramref name="probe"/> (once per process; it first sets up what the environment may lack) and returns
    /// its evidence when the machine has the feature; skips when it cannot have it; an undecided probe is
    /// <see cref="Unmet"/>.
    /// </summary>
    public static string Kernel(KernelProbe probe)
    {
        ProbeFinding f = MachineProbes.Check(probe);
        switch (f.Verdict)
        {
            case ProbeVerdict.Present:
                return f.Evidence;
            case ProbeVerdict.Absent:
                Assert.Skip(f.SkipReason);
                break;
            default:
                Unmet($"probe {probe} could not decide: {f.Evidence}");
                break;
        }
        throw new UnreachableException();
    }

    /// <summary>
    /// The test found a feature missing (<paramref name="observed"/>): skips when <paramref name="probe"/> agrees that
    /// this machine cannot provide it, and FAILS when the probe says the machine has it (the test's set-up or the
    /// code under test is wrong, not the kernel).
    /// </summary>
    [DoesNotReturn]
    public static void KernelLacks(KernelProbe probe, string observed)
    {
        ProbeFinding f = MachineProbes.Check(probe);
        switch (f.Verdict)
        {
            case ProbeVerdict.Absent:
                Assert.Skip($"{f.SkipReason} (the test saw: {observed})");
                break;
            case ProbeVerdict.Present:
                Assert.Fail($"the test found '{observed}' missing, but probe {probe} says this machine has it ({f.Evidence}): " +
                    "fix the test's set-up or the code under test; this is not a kernel limitation");
                break;
            default:
                Unmet($"the test found '{observed}' missing and probe {probe} could not decide: {f.Evidence}");
                break;
        }
        throw new UnreachableException();
    }

    /// <summary>Any other unmet precondition: skip, or fail when KSCOPE_STRICT=1.</summary>
    [DoesNotReturn]
    public static void Unmet(string reason)
    {
        if (Strict)
        {
            Assert.Fail($"KSCOPE_STRICT=1 and a precondition is unmet (this is not a kernel limitation): {reason}");
        }
        Assert.Skip(reason);
        throw new UnreachableException();
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
        // The Debian package's file first: a PATH may put a wrapper ahead of it (a pyenv shim is a bash script that
        // forks several shells before it execs python: a test tracing "python3" would trace those too).
        string? path = new[] { "/usr/bin", "/usr/sbin", "/bin", "/sbin" }.Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists)
            ?? Tools.Which(name);
        if (path is null)
        {
            Unmet($"'{name}' not on PATH (apt-get install {debianPackage}; .ci/install-deps installs it)");
        }
        return path;
    }

    internal static bool IsRoot()
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
