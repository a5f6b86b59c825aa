using System.CommandLine;
using System.Reflection;
using Kscope.Cli.Infrastructure;
using Kscope.Native;

namespace Kscope.Cli.Commands;

/// <summary><c>kscope version</c>: kscope's version, the runtime, the kernel.</summary>
public static class VersionCommand
{
    public static Command Create(IConsole console)
    {
        var command = new Command("version", "Print kscope's version, the .NET runtime and the running kernel.");
        command.SetAction(_ => CommandRunner.Run(console, () =>
        {
            string version = typeof(VersionCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
            var uts = Posix.Uname();
            console.Out.WriteLine($"kscope {version}");
            console.Out.WriteLine($".NET {Environment.Version}, {System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture}");
            console.Out.WriteLine($"kernel {uts.Release} ({uts.Machine})");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
