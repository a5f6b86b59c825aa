using Kscope.Cli.Infrastructure;
using Kscope.Formats.Pprof;

namespace Kscope.Cli.Tests.Profiling;

/// <summary>
/// <c>profile --off-cpu -- COMMAND</c>: the stopped shell kscope starts for the command (it SIGSTOPs itself and
/// waits for kscope's SIGCONT) is kscope's doing: its stop is not the command's off-CPU time (PID_PENDING_EXEC,
/// as for <c>kscope trace</c>).
/// </summary>
[Trait("Category", "Kernel")]
public sealed class OffCpuWrapperTests
{
    [Fact]
    public void ProfileOffCpu_Command_WrapperStopIsNotOffCpuTime()
    {
        Requires.Root();
        string output = Path.Combine(Path.GetTempPath(), $"kscope-offcpu-wrapper-{Environment.ProcessId}-{Guid.NewGuid():N}.pb.gz");
        try
        {
            var console = new StringConsole();
            int code = KscopeCli.Invoke(console, ["profile", "--off-cpu", "-o", output, "--", "/bin/sh", "-c", "sleep 0.3; true"]);
            Assert.True(code is ExitCodes.Ok or ExitCodes.Warnings, console.OutText + console.ErrorText);
            Profile profile = ProfileReader.Read(File.ReadAllBytes(output));
            var blocked = profile.Samples.Where(s => s.Values[2] > 0).ToList();
            static IEnumerable<string> Names(Sample s) => s.Locations.SelectMany(l => l.Lines).Select(l => l.Function?.Name ?? "");
            // the command's own wait for its sleep child is there...
            Assert.Contains(blocked, s => Names(s).Any(n => n.Contains("wait", StringComparison.Ordinal)));
            // ...the wrapper's stop (do_signal_stop, before its exec) is not
            Assert.DoesNotContain(blocked, s => Names(s).Any(n => n.Contains("do_signal_stop", StringComparison.Ordinal)));
        }
        finally
        {
            File.Delete(output);
        }
    }
}
