using System.Diagnostics;
using System.Text.Json;
using Kscope.Cli.Infrastructure;
using Kscope.Formats.Procfs;
using Kscope.Kernel.Host;

namespace Kscope.Cli.Tests.Matrix;

/// <summary>
/// `kscope trace --cgroup DIR` on cgroup v2 filters in the kernel by cgroup id
/// (bpf_get_current_cgroup_id): two processes open files in a loop, one inside a fresh child cgroup
/// and one outside; only the one inside is traced. Runs on the host's unified hierarchy (hybrid mode)
/// and in the tests/kernels guests (pure v2).
/// </summary>
[Trait("Category", "Kernel")]
public class TraceCgroupV2Tests
{
    private static Process Loop(string script)
    {
        var psi = new ProcessStartInfo("sh") { UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(script);
        return Process.Start(psi)!;
    }

    [Fact]
    public void TraceOpen_CgroupV2Filter_SeesOnlyTasksInTheCgroup()
    {
        using TempCgroup cg = TempCgroup.CreateV2();
        int self = Environment.ProcessId;
        string dir = cg.Dir;
        string inside = $"/nonexistent-in-cgroup-{self}", outside = $"/nonexistent-outside-{self}";
        Process? a = null, b = null;
        try
        {
            a = Loop($"echo $$ > {dir}/cgroup.procs; while :; do cat {inside} 2>/dev/null; sleep 0.05; done");
            b = Loop($"while :; do cat {outside} 2>/dev/null; sleep 0.05; done");
            var console = new StringConsole();
            int code = KscopeCli.Invoke(console, ["trace", "open", "--json", "--cgroup", dir, "--for", "3s"]);
            Assert.True(code == ExitCodes.Ok, $"exit {code}: {console.ErrorText}");
            var lines = console.OutText.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
            Assert.Equal("duration", lines[^1].GetProperty("end").GetString());
            var paths = lines.Where(l => l.GetProperty("type").GetString() == "event").Select(l => l.GetProperty("path").GetString()).ToList();
            Assert.Contains(inside, paths);
            Assert.DoesNotContain(outside, paths);
        }
        finally
        {
            foreach (Process? p in new[] { a, b })
            {
                if (p is not null)
                {
                    p.Kill(entireProcessTree: true);
                    p.WaitForExit();
                    p.Dispose();
                }
            }
        }
    }
}
