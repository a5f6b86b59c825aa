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
[Trait(KscopeCli.Mode, KscopeCli.InProcess)] // counts the test process's own fds
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

    /// <summary>exit_group never returns: the entry its sys_enter stored must go with the task (map `starts` is a plain hash).</summary>
    [Fact]
    public async Task Syscalls_ThreadsExitInsideSyscalls_LeaveNoStartEntries()
    {
        Requires.Root();
        using StoppedCommand command = StoppedCommand.Start(["/bin/sh", "-c", "for i in 1 2 3 4 5; do /bin/true & done; wait"]);
        var filter = new TraceFilter { Pids = new HashSet<int> { command.Pid }, FollowChildren = true };
        using IGadgetInstance instance = new BpfGadgetRuntime().Start(s_syscalls, GadgetObjects.Load("syscalls"), filter, filter.RodataValues());
        command.Resume();
        await command.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        ulong exits = instance.MapEntries("stats").Select(e => SyscallStatsOf(e)).Where(s => s.Name == "exit_group").Aggregate(0UL, (a, s) => a + s.Count);
        Assert.Equal(0UL, exits); // exit_group never reaches sys_exit
        Assert.Empty(instance.MapEntries("starts"));
        Assert.True(instance.MapEntries("stats").Any(), "the command's syscalls were counted");
    }

    private static Kscope.Diagnostics.Trace.Gadgets.Syscalls.SyscallStats SyscallStatsOf((byte[] Key, byte[] Value) e) =>
        Kscope.Diagnostics.Trace.Gadgets.Syscalls.SyscallStats.Parse(BitConverter.ToUInt32(e.Key), e.Value);

    [Fact]
    public void TraceCommand_RepeatedWithCommand_NoFdGrowth()
    {
        Requires.Root();
        FdCounter.AssertNoGrowth(5, () =>
        {
            var console = new StringConsole();
            int code = Program.Run(console, ["trace", s_syscalls.Name, "--json", "--slow", "0", "--", "/bin/true"]);
            Assert.True(code == ExitCodes.Ok, console.ErrorText);
        });
    }
}
