namespace Kscope.TestKit;

/// <summary>Counts this process's open fds (/proc/self/fd) for leak checks.</summary>
public static class FdCounter
{
    public static int Count() => Directory.GetFiles("/proc/self/fd").Length;

    /// <summary>Runs <paramref name="action"/> <paramref name="times"/> times and asserts the fd count did not grow (small slack for runtime-internal fds).</summary>
    public static void AssertNoGrowth(int times, Action action, int slack = 2)
    {
        action(); // warm up lazy runtime fds
        int before = Count();
        for (int i = 0; i < times; i++)
        {
            action();
        }
        GC.Collect();
        GC.WaitForPendingFinalizers();
        int after = Count();
        Assert.True(after <= before + slack, $"/proc/self/fd grew from {before} to {after} over {times} iterations");
    }
}
