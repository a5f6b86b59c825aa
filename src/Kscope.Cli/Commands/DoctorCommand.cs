using System.CommandLine;
using System.Reflection;
using Kscope.Cli.Infrastructure;
using Kscope.Diagnostics.Doctor;
using Kscope.Native;

namespace Kscope.Cli.Commands;

/// <summary><c>kscope doctor</c>: is this machine (or this process's container) set up right?</summary>
public static class DoctorCommand
{
    public static Command Create(IConsole console)
    {
        var pid = CommonOptions.Pid("Examine this process's limits, environment and security context instead of kscope's own.");
        var json = CommonOptions.Json();
        var check = new Option<string[]>("--check", "-c")
        {
            Description = "Run only this check: an id (kernel.btf), an id prefix (kernel.syscall) or a section (security). Repeatable.",
            AllowMultipleArgumentsPerToken = false,
        };
        var command = new Command("doctor",
            "Check the kernel, limits, security and toolchains a service runs with; each line says what was found, how, and how to fix it.\n" +
            "Exit code: 0 all ok, 1 a warning, 2 a failure.\n\n" +
            "Examples:\n" +
            "  kscope doctor                         # this machine, as kscope sees it\n" +
            "  kscope doctor --pid 4242              # the cgroup limits, GOMAXPROCS and security of process 4242\n" +
            "  kscope doctor --check limits --json   # one section as JSON (schema: docs/doctor.md)");
        command.Options.Add(pid);
        command.Options.Add(json);
        command.Options.Add(check);
        command.SetAction(parse => CommandRunner.Run(console, () =>
            Run(console, parse.GetValue(pid), parse.GetValue(json), parse.GetValue(check) ?? [])));
        return command;
    }

    private static int Run(IConsole console, int? pid, bool json, string[] checks)
    {
        foreach (string selector in checks)
        {
            if (Doctor.Select(selector).Count == 0)
            {
                throw new UsageException($"doctor: no check matches '{selector}' (ids are listed in docs/doctor.md; sections: kernel, limits, security, toolchains)");
            }
        }
        if (pid is int p && (p <= 0 || !Directory.Exists($"/proc/{p}")))
        {
            throw new UsageException($"doctor: no process with pid {p}");
        }
        var context = new DoctorContext(pid);
        IReadOnlyList<CheckResult> results = Doctor.Run(context, checks);
        if (json)
        {
            string version = typeof(DoctorCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
            using var buffer = new MemoryStream();
            DoctorJson.Write(buffer, results, pid, version, Posix.Uname().Release, DateTimeOffset.UtcNow);
            console.Out.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
        }
        else
        {
            DoctorTable.Write(console, results, context.TargetName);
        }
        return Doctor.Worst(results) switch
        {
            CheckStatus.Fail => ExitCodes.Failures,
            CheckStatus.Warn => ExitCodes.Warnings,
            _ => ExitCodes.Ok,
        };
    }
}
