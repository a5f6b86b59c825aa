using System.Text.Json;
using Kscope.Cli.Infrastructure;

namespace Kscope.Cli.Tests.Doctor;

/// <summary>
/// The built `kscope doctor` as a user runs it, in a child process: with capabilities dropped
/// (capsh), with ASLR turned off by personality (setarch -R), on a terminal with and without NO_COLOR
/// (script gives it a pty) and on a pipe. Exit codes come from the real process.
/// </summary>
[Trait("Category", "Kernel")]
public class DoctorProcessTests
{
    [Fact]
    public void Capabilities_DroppedByCapsh_NamedWithTheFeaturesTheyDisable()
    {
        Requires.Root();
        string capsh = Requires.Tool("capsh", "libcap2-bin");
        // Dropped from the bounding set, root's exec of kscope no longer gets them in its effective set.
        var (code, output, err) = DoctorHelper.Run(null, capsh, "--drop=cap_bpf,cap_perfmon,cap_sys_admin", "--", "-c", "exec \"$@\"", "sh",
            DoctorHelper.Kscope, "doctor", "--json", "--check", "security.capabilities", "--check", "security.perf_event_paranoid", "--check", "kernel.syscall.bpf");
        using JsonDocument report = JsonDocument.Parse(output);
        var checks = report.RootElement.GetProperty("checks").EnumerateArray().ToDictionary(c => c.GetProperty("id").GetString()!, c => c.Clone());
        JsonElement caps = checks["security.capabilities"];
        Assert.Equal("warn", caps.GetProperty("status").GetString());
        Assert.Equal("missing CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN", caps.GetProperty("value").GetString());
        string evidence = caps.GetProperty("evidence").GetString()!;
        Assert.Contains("CAP_BPF: eBPF gadgets, trace and off-CPU profiling", evidence);
        Assert.Contains("CAP_PERFMON: perf events: CPU profiling and tracepoint/uprobe attachment", evidence);
        Assert.Contains("CAP_SYS_ADMIN: mounting tracefs, debugfs, bpffs and securityfs", evidence);
        Assert.DoesNotContain("CAP_SYS_PTRACE:", evidence);
        Assert.Contains("setcap", caps.GetProperty("fix").GetString());
        // What the missing capabilities cost, seen by the checks that need them.
        long paranoid = long.Parse(File.ReadAllText("/proc/sys/kernel/perf_event_paranoid").Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(paranoid > 1 ? "warn" : "ok", checks["security.perf_event_paranoid"].GetProperty("status").GetString());
        Assert.Contains("lacks CAP_PERFMON/CAP_SYS_ADMIN", checks["security.perf_event_paranoid"].GetProperty("evidence").GetString());
        if (File.ReadAllText("/proc/sys/kernel/unprivileged_bpf_disabled").Trim() != "0")
        {
            Assert.Equal("could not test", checks["kernel.syscall.bpf"].GetProperty("value").GetString());
        }
        // Warnings and no failure: exit 1 (docs/doctor.md).
        Assert.True(code == ExitCodes.Warnings, $"exit {code}: {err}");
    }

    [Fact]
    public void AslrMeasured_UnderSetarchR_FailsWithExitTwo()
    {
        string setarch = Requires.Tool("setarch", "util-linux");
        // ADDR_NO_RANDOMIZE is inherited by the children doctor measures: their bases repeat.
        var (code, output, err) = DoctorHelper.Run(null, setarch, "-R", DoctorHelper.Kscope, "doctor", "--json", "--check", "security.aslr.measured");
        using JsonDocument report = JsonDocument.Parse(output);
        JsonElement check = report.RootElement.GetProperty("checks")[0];
        Assert.Equal("fail", check.GetProperty("status").GetString());
        Assert.StartsWith("stack 0, mmap 0,", check.GetProperty("value").GetString());
        Assert.Contains("ADDR_NO_RANDOMIZE", check.GetProperty("fix").GetString());
        Assert.Equal("fail", report.RootElement.GetProperty("status").GetString());
        Assert.True(code == ExitCodes.Failures, $"exit {code}: {err}");

        // The table says the same, and a pipe gets no colour.
        var (tableCode, table, _) = DoctorHelper.Run(null, setarch, "-R", DoctorHelper.Kscope, "doctor", "--check", "security.aslr.measured");
        Assert.Equal(ExitCodes.Failures, tableCode);
        Assert.Contains("fail", table);
        Assert.DoesNotContain("\u001b[", table);
    }

    [Fact]
    public void Table_OnATerminal_ColouredUnlessNoColor()
    {
        string script = Requires.Tool("script", "bsdutils");
        string command = $"{DoctorHelper.Kscope} doctor --check kernel.release";
        // script(1) runs the command on a pseudo-terminal and copies what it wrote to our pipe.
        var (code, coloured, err) = DoctorHelper.Run(new Dictionary<string, string?> { ["NO_COLOR"] = null }, script, "-qec", command, "/dev/null");
        Assert.True(code == ExitCodes.Ok, $"exit {code}: {err}");
        Assert.Contains("\u001b[32m", coloured);
        var (noColorCode, plain, _) = DoctorHelper.Run(new Dictionary<string, string?> { ["NO_COLOR"] = "1" }, script, "-qec", command, "/dev/null");
        Assert.Equal(ExitCodes.Ok, noColorCode);
        Assert.Contains("kernel.release", plain);
        // No SGR (colour/bold) sequence. The .NET console itself still switches a terminal's keypad to
        // application mode ("\e[?1h\e="): invisible, not colour.
        Assert.DoesNotMatch(@"\u001b\[[0-9;]*m", plain);
    }
}
