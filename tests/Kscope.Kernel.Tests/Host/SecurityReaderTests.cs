using Kscope.Kernel.Host;

namespace Kscope.Kernel.Tests.Host;

public class SecurityReaderTests
{
    [Fact]
    public void Lsm_MountsSecurityfsAndMatchesFile()
    {
        Requires.Root();
        Sourced<IReadOnlyList<string>> lsm = SecurityModules.Active();
        Assert.Contains("capability", lsm.Value);
        Assert.Equal(File.ReadAllText(lsm.Source).Trim(), string.Join(',', lsm.Value));
        Assert.NotNull(SpecialFilesystems.MountPointOf(SpecialFilesystems.SecurityFs));
    }

    [Fact]
    public void Lockdown_MatchesBracketedWord()
    {
        Requires.Root();
        Sourced<string>? mode = SecurityModules.Lockdown();
        if (mode is null)
        {
            // The probe mounts securityfs when the environment had not: a lockdown file there means kscope missed it.
            Requires.KernelLacks(KernelProbe.Lockdown, "SecurityModules.Lockdown() is null");
        }
        Assert.Contains($"[{mode.Value}]", File.ReadAllText(mode.Source));
    }

    [Fact]
    public void TraceFs_EnsureMountsIt()
    {
        Requires.Root();
        var (mountPoint, _) = SpecialFilesystems.Ensure(SpecialFilesystems.TraceFs);
        Assert.True(File.Exists(Path.Combine(mountPoint, "available_events")) || File.Exists(Path.Combine(mountPoint, "trace")), $"{mountPoint} lacks tracefs files");
        Assert.Equal("tracefs", Tools.Check("stat", "-f", "-c", "%T", mountPoint).Trim());
    }
}
