using Kscope.Cli.Infrastructure;
using Kscope.Diagnostics.Trace;
using Kscope.TestKit;

namespace Kscope.Cli.Tests.Trace;

/// <summary>
/// Gadget sessions started and stopped again and again in one process leave no fd behind: maps,
/// programs, perf-event links, the ring buffer's mappings and epoll fd, the stopped command's pidfd.
/// </summary>
[Trait("Category", "Kernel")]
[Collection(LeakCollection.Name)]
public sealed class GadgetRuntimeLeakTests
{
    private static readonly Gadget s_syscalls = GadgetCatalog.Find("syscalls")!;

    [Fact]
    public void Start_Dispose_RepeatedWithRingBufferAndStacks_NoFdGrowth()
    {
        Requires.Root();
        var runtime = new BpfGadgetRuntime();
        foreach (string name in (string[])["syscalls", "offcpu"])
        {
            Gadget gadget = GadgetCatalog.Find(name)!;
            byte[] elf = GadgetObjects.Load(gadget.Object!);
            var filter = new TraceFilter { Pids = new HashSet<int> { Environment.ProcessId }, FollowChildren = true };
            var rodata = new Dictionary<string, object>(filter.RodataValues()) { ["slow_ns"] = 0UL };
            FdCounter.AssertNoGrowth(8, () =>
            {
                using IGadgetInstance instance = runtime.Start(gadget, elf, filter, rodata);
                instance.AddPid(Environment.ProcessId);
                File.ReadAllText("/proc/self/stat"); // syscalls of the filtered process: records to read
                using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));
                try
                {
                    foreach (ReadOnlyMemory<byte> _ in instance.Events(cts.Token).ToBlockingEnumerable(cts.Token))
                    {
                    }
                }
                catch (OperationCanceledException)
                {
                }
                _ = instance.MapEntries(name == "syscalls" ? "stats" : "totals").Count();
                _ = instance.Lost;
            });
        }
    }

    [Fact]
    public void TraceCommand_RepeatedWithCommand_NoFdGrowth()
    {
        Requires.Root();
        FdCounter.AssertNoGrowth(5, () =>
        {
            var console = new StringConsole();
            int code = Program.BuildRoot(console).Parse(["trace", s_syscalls.Name, "--json", "--slow", "0", "--", "/bin/true"]).Invoke();
            Assert.True(code == ExitCodes.Ok, console.ErrorText);
        });
    }
}
