using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Kscope.Diagnostics.Doctor;

namespace Kscope.Cli.Tests.Doctor;

public class DoctorSecurityTests
{
    [Fact]
    [Trait("Category", "Kernel")]
    public void AslrMeasured_ReportsRandomBitsWhenSysctlSaysSo()
    {
        var (_, console) = DoctorCommandTests.Run("--json", "--check", "security.aslr");
        using JsonDocument report = JsonDocument.Parse(console.OutText);
        var checks = report.RootElement.GetProperty("checks").EnumerateArray().ToDictionary(c => c.GetProperty("id").GetString()!);
        string sysctl = File.ReadAllText("/proc/sys/kernel/randomize_va_space").Trim();
        string measured = checks["security.aslr.measured"].GetProperty("status").GetString()!;
        Assert.Equal(sysctl == "0" ? "fail" : "ok", measured == "warn" ? "ok" : measured);
    }

    [Fact]
    [Trait("Category", "Kernel")]
    public void AslrMeasurement_MmapBitsAtLeastHalfOfMmapRndBits()
    {
        AslrMeasurement.Result r = AslrMeasurement.Measure(10, File.Exists("/bin/cat") ? "/bin/cat" : "/usr/bin/cat");
        long rndBits = long.Parse(File.ReadAllText("/proc/sys/vm/mmap_rnd_bits").Trim());
        if (File.ReadAllText("/proc/sys/kernel/randomize_va_space").Trim() == "0")
        {
            Assert.Equal(0, r.BitsSeen["mmap"]);
            return;
        }
        // 10 samples see each random bit change with probability 1 - 2^-9; all mmap_rnd_bits are page-number bits.
        Assert.InRange(r.BitsSeen["mmap"]!.Value, (int)rndBits - 3, (int)rndBits + 1);
        Assert.True(r.BitsSeen["stack"] > 0);
    }

    [Fact]
    [Trait("Category", "Kernel")]
    public void CpuFlags_MatchCpuinfo()
    {
        var (_, console) = DoctorCommandTests.Run("--json", "--check", "security.cpu");
        using JsonDocument report = JsonDocument.Parse(console.OutText);
        string flags = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal)) ?? "";
        foreach (JsonElement c in report.RootElement.GetProperty("checks").EnumerateArray())
        {
            string flag = c.GetProperty("id").GetString()!["security.cpu.".Length..];
            bool present = flags.Split(' ', '\t').Contains(flag);
            Assert.Equal(present ? "on" : "off", c.GetProperty("value").GetString());
        }
    }

    [Fact]
    public void GoBinaryVersion_MatchesGoVersionTool()
    {
        string go = Requires.Tool("go", "golang-go");
        string real = new FileInfo(go).ResolveLinkTarget(true)?.FullName ?? go;
        string expected = Tools.Check(go, "version", real).Trim().Split(' ').Last();
        Assert.Equal(expected, GoBinaryVersion.Read(real));
        Assert.Null(GoBinaryVersion.Read("/bin/sh"));
    }

    [Fact]
    [Trait("Category", "Kernel")]
    public void DoctorPid_ChildUnderSetprivNoNewPrivs_ReportsNoNewPrivsSetAndNoFilter()
    {
        Requires.Root();
        string setpriv = Requires.Tool("setpriv", "util-linux");
        var checks = DoctorOnLiveChild(setpriv, "--no-new-privs", "sleep", "30");
        Assert.Equal("set", checks["security.no_new_privs"].GetProperty("value").GetString());
        Assert.Equal(OwnFilters() == 0 ? "disabled" : $"filter, {OwnFilters()} filter(s)", checks["security.seccomp"].GetProperty("value").GetString());
    }

    [Fact]
    [Trait("Category", "Kernel")]
    public void DoctorPid_ChildUnderSeccompFilter_ReportsFilterModeAndOneMoreFilter()
    {
        Requires.Root();
        var checks = DoctorOnLiveChild(DoctorHelper.Exe, "seccomp", "sleep", "30");
        // The helper set NoNewPrivs and installed exactly one filter on top of whatever this process has.
        Assert.Equal($"filter, {OwnFilters() + 1} filter(s)", checks["security.seccomp"].GetProperty("value").GetString());
        Assert.Contains("Seccomp 2", checks["security.seccomp"].GetProperty("evidence").GetString());
        Assert.Equal("set", checks["security.no_new_privs"].GetProperty("value").GetString());
    }

    private static int OwnFilters() =>
        int.Parse(File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("Seccomp_filters:", StringComparison.Ordinal))?["Seccomp_filters:".Length..].Trim() ?? "0", CultureInfo.InvariantCulture);

    /// <summary>Starts a child (it execs into sleep, keeping its pid), waits for the exec, runs doctor --pid on it.</summary>
    private static Dictionary<string, JsonElement> DoctorOnLiveChild(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { UseShellExecute = false };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using Process child = Process.Start(psi)!;
        try
        {
            string comm = $"/proc/{child.Id}/comm";
            for (int i = 0; i < 250 && File.ReadAllText(comm).Trim() != "sleep"; i++)
            {
                Thread.Sleep(20);
            }
            Assert.Equal("sleep", File.ReadAllText(comm).Trim());
            var (_, console) = DoctorCommandTests.Run("--pid", child.Id.ToString(CultureInfo.InvariantCulture), "--json", "--check", "security.seccomp", "--check", "security.no_new_privs");
            using JsonDocument report = JsonDocument.Parse(console.OutText);
            return report.RootElement.GetProperty("checks").EnumerateArray().ToDictionary(c => c.GetProperty("id").GetString()!, c => c.Clone());
        }
        finally
        {
            child.Kill();
            child.WaitForExit();
        }
    }
}
