using System.Text.Json;
using Kscope.Cli.Infrastructure;
using Kscope.Diagnostics.Doctor;

namespace Kscope.Cli.Tests.Doctor;

public class DoctorCommandTests
{
    internal static (int Code, StringConsole Console) Run(params string[] args)
    {
        var console = new StringConsole();
        int code = KscopeCli.Invoke(console, ["doctor", .. args]);
        return (code, console);
    }

    private static JsonElement Schema()
    {
        string doc = File.ReadAllText(Path.Combine(Tools.RepoRoot, "docs", "doctor.md"));
        int start = doc.IndexOf("```json\n", StringComparison.Ordinal) + 8;
        int end = doc.IndexOf("```", start, StringComparison.Ordinal);
        return JsonDocument.Parse(doc[start..end]).RootElement.Clone();
    }

    [Fact]
    [Trait("Category", "Kernel")]
    public void Json_AllChecks_ValidatesAgainstDocumentedSchema()
    {
        var (code, console) = Run("--json");
        using JsonDocument report = JsonDocument.Parse(console.OutText);
        List<string> errors = MiniJsonSchema.Validate(Schema(), report.RootElement);
        Assert.True(errors.Count == 0, string.Join("\n", errors));
        JsonElement root = report.RootElement;
        Assert.Equal(Kscope.Diagnostics.Doctor.Doctor.Checks.Count, root.GetProperty("checks").GetArrayLength());
        // exit code and top-level status agree
        string status = root.GetProperty("status").GetString()!;
        Assert.Equal(status switch { "ok" => ExitCodes.Ok, "warn" => ExitCodes.Warnings, _ => ExitCodes.Failures }, code);
        // the summary counts the checks
        int total = root.GetProperty("summary").EnumerateObject().Sum(p => p.Value.GetInt32());
        Assert.Equal(root.GetProperty("checks").GetArrayLength(), total);
    }

    [Fact]
    [Trait("Category", "Kernel")]
    public void Json_KernelValues_MatchIndependentSources()
    {
        var (_, console) = Run("--json", "--check", "kernel.release", "--check", "limits.cpus", "--check", "toolchain.glibc", "--check", "limits.rlimit.nofile");
        using JsonDocument report = JsonDocument.Parse(console.OutText);
        var values = report.RootElement.GetProperty("checks").EnumerateArray().ToDictionary(c => c.GetProperty("id").GetString()!, c => c.GetProperty("value").GetString()!);
        Assert.StartsWith(Tools.Check("uname", "-r").Trim(), values["kernel.release"]);
        Assert.StartsWith(Tools.Check("nproc").Trim() + " ", values["limits.cpus"]);
        Assert.Contains(Tools.Check("getconf", "GNU_LIBC_VERSION").Trim().Split(' ')[1], values["toolchain.glibc"]);
        Assert.Contains($"soft {Tools.Check("sh", "-c", "ulimit -Sn").Trim()}", values["limits.rlimit.nofile"]);
    }

    [Fact]
    public void Check_Selection_RunsOnlyTheNamedChecks()
    {
        var (_, console) = Run("--json", "--check", "kernel.btf", "--check", "kernel.syscall", "-c", "toolchains");
        using JsonDocument report = JsonDocument.Parse(console.OutText);
        string[] ids = report.RootElement.GetProperty("checks").EnumerateArray().Select(c => c.GetProperty("id").GetString()!).ToArray();
        Assert.Contains("kernel.btf", ids);
        Assert.Contains("kernel.syscall.bpf", ids);
        Assert.Contains("toolchain.shell_env", ids);
        Assert.DoesNotContain("kernel.release", ids);
        Assert.DoesNotContain(ids, id => id.StartsWith("limits.", StringComparison.Ordinal) || id.StartsWith("security.", StringComparison.Ordinal));
        Assert.Equal(1 + 11 + ToolchainChecks.All.Count, ids.Length);
    }

    [Fact]
    public void Check_Unknown_IsUsageError()
    {
        var (code, console) = Run("--check", "kernel.nonsense");
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("[ERROR] doctor: no check matches 'kernel.nonsense'", console.ErrorText);
    }

    [Fact]
    public void Pid_Missing_IsUsageError()
    {
        var (code, console) = Run("--pid", "2147483646");
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("no process with pid 2147483646", console.ErrorText);
    }

    [Fact]
    public void ExitCode_FollowsWorstStatus()
    {
        // kernel.release is always ok; select it alone for a 0
        Assert.Equal(ExitCodes.Ok, Run("--check", "kernel.release").Code);
        Assert.Equal(ExitCodes.Warnings, Exit(CheckStatus.Warn));
        Assert.Equal(ExitCodes.Failures, Exit(CheckStatus.Fail));
        Assert.Equal(ExitCodes.Ok, Exit(CheckStatus.Skip));

        static int Exit(CheckStatus s) => Kscope.Diagnostics.Doctor.Doctor.Worst([new CheckResult("x", DoctorSection.Kernel, "x", CheckStatus.Ok, "", "", null), new CheckResult("y", DoctorSection.Kernel, "y", s, "", "", null)]) switch
        {
            CheckStatus.Fail => ExitCodes.Failures,
            CheckStatus.Warn => ExitCodes.Warnings,
            _ => ExitCodes.Ok,
        };
    }

    [Fact]
    public void Table_GroupsBySectionWithoutColourWhenNotATerminal()
    {
        var (_, console) = Run("--check", "kernel.release", "--check", "limits.cpus", "--check", "security.seccomp", "--check", "toolchain.glibc");
        string text = console.OutText;
        Assert.DoesNotContain("\u001b[", text);
        int kernel = text.IndexOf("Kernel", StringComparison.Ordinal), limits = text.IndexOf("Limits", StringComparison.Ordinal);
        int security = text.IndexOf("Security", StringComparison.Ordinal), toolchains = text.IndexOf("Toolchains", StringComparison.Ordinal);
        Assert.True(kernel >= 0 && kernel < limits && limits < security && security < toolchains, text);
        Assert.Contains("4 checks:", text);
    }

    [Fact]
    [Trait(KscopeCli.Mode, KscopeCli.InProcess)] // a console that is a terminal: only in process
    public void Table_Colour_OnlyWhenConsoleAllowsIt()
    {
        var console = new StringConsole { IsTerminal = true, Color = true };
        Program.Run(console, ["doctor", "--check", "kernel.release"]);
        Assert.Contains("\u001b[32m", console.OutText);
    }

    [Fact]
    public void Docs_ListEveryCheckId()
    {
        string doc = File.ReadAllText(Path.Combine(Tools.RepoRoot, "docs", "doctor.md"));
        foreach (DoctorCheck check in Kscope.Diagnostics.Doctor.Doctor.Checks)
        {
            Assert.Contains($"`{check.Id}`", doc);
        }
    }

    [Fact]
    public void Checks_IdsAreUniqueAndMatchTheirSection()
    {
        var ids = Kscope.Diagnostics.Doctor.Doctor.Checks.Select(c => c.Id).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        foreach (DoctorCheck c in Kscope.Diagnostics.Doctor.Doctor.Checks)
        {
            Assert.StartsWith(c.Section == DoctorSection.Toolchains ? "toolchain." : c.Section.ToString().ToLowerInvariant() + ".", c.Id);
        }
    }

    [Fact]
    public void FailingCheck_BecomesSkipWithReason()
    {
        var broken = new DoctorCheck("kernel.broken", DoctorSection.Kernel, "broken", _ => throw new IOException("read /nowhere: gone"));
        CheckResult r = Kscope.Diagnostics.Doctor.Doctor.RunOne(new DoctorContext(null), broken);
        Assert.Equal(CheckStatus.Skip, r.Status);
        Assert.Contains("read /nowhere: gone", r.Evidence);
    }
}
