using System.Diagnostics;
using Kscope.Diagnostics.Symbols;
using Kscope.Diagnostics.Trace;

namespace Kscope.Diagnostics.Tests.Trace;

/// <summary>The mappings a stack gadget keeps for its report: kept after exit, bounded, drops counted.</summary>
public sealed class ProcessMapsStoreTests
{
    private static Process Sleeper()
    {
        Process p = Process.Start(new ProcessStartInfo("/bin/sleep", "30") { UseShellExecute = false })!;
        var deadline = Stopwatch.StartNew();
        // asleep in clock_nanosleep (230) or nanosleep (35), /proc/PID/syscall's first field: ld.so has mapped every
        // library and is done. Waiting for libc's text mapping alone was not enough in a one-vCPU QEMU guest (the next
        // read of the maps did not find it: the loader was still at work).
        while (SyscallOf(p.Id) is not ("230" or "35"))
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromMinutes(2), $"sleep {p.Id} never went to sleep (syscall {SyscallOf(p.Id)})");
            Thread.Sleep(10);
        }
        return p;
    }

    private static string SyscallOf(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/syscall").Split(' ')[0].Trim();
        }
        catch (IOException)
        {
            return "gone";
        }
    }

    private static void End(Process p)
    {
        p.Kill();
        p.WaitForExit();
        p.Dispose();
    }

    [Fact]
    [Trait("Category", "Kernel")]
    public void Take_ProcessExitsAfterwards_SnapshotStillResolves()
    {
        var store = new ProcessMapsStore(new AddressResolver());
        Process p = Sleeper();
        uint pid = (uint)p.Id;
        var libc = Kscope.Kernel.Host.Procfs.Maps(p.Id).First(m => m.IsExecutable && Path.GetFileName(m.Path).StartsWith("libc.so", StringComparison.Ordinal));
        var elf = Kscope.Formats.Elf.ElfFile.Parse(File.ReadAllBytes(libc.Path));
        var getpid = elf.DynamicSymbols.First(s => s.Name == "getpid" && s.Value != 0);
        Assert.True(elf.TryGetFileOffset(getpid.Value, out ulong fileOffset), "getpid's file offset");
        Assert.True(store.Take(pid));
        End(p);
        UserFrames? frames = store.Get(pid, maxAgeMs: 0);
        Assert.NotNull(frames);
        // the process is gone: its libc is still found through the snapshot (getpid, as .dynsym names it)
        Assert.Matches($@"^(__)?getpid {System.Text.RegularExpressions.Regex.Escape($"[{Path.GetFileName(libc.Path)}]")}$", frames.Resolve(libc.Start + fileOffset - libc.Offset));
        Assert.False(store.Take(pid), "a process that is gone cannot be read again");
        Assert.NotNull(store.Get(pid, maxAgeMs: 0));
        Assert.Equal(0UL, store.Dropped);
    }

    [Fact]
    [Trait("Category", "Kernel")]
    public void Take_MoreProcessesThanCapacity_OldestDroppedAndCounted()
    {
        var store = new ProcessMapsStore(new AddressResolver(), capacity: 2);
        Process[] sleepers = [Sleeper(), Sleeper(), Sleeper()];
        uint[] pids = sleepers.Select(p => (uint)p.Id).ToArray();
        try
        {
            foreach (Process p in sleepers)
            {
                Assert.True(store.Take((uint)p.Id));
                Thread.Sleep(20); // distinct "seen" times (TickCount64 has ms resolution at best)
            }
            Assert.Equal(2, store.Count);
            Assert.Equal(1UL, store.Dropped);
            End(sleepers[0]);
            Assert.Null(store.Get(pids[0], maxAgeMs: 0)); // the dropped one: gone and not kept
            Assert.NotNull(store.Get(pids[2], maxAgeMs: 0));
        }
        finally
        {
            foreach (Process p in sleepers.Skip(1))
            {
                End(p);
            }
        }
    }

    [Fact]
    public void Constructor_ZeroCapacity_Rejected() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new ProcessMapsStore(new AddressResolver(), capacity: 0));
}
