using System.Diagnostics;

namespace Kscope.TestKit;

/// <summary>
/// Waits for a condition instead of asserting a timing: tests poll until what they expect holds, with a
/// deadline generous enough for a loaded 2-core host and the QEMU guests of tests/kernels (~15x slower).
/// The deadline only turns a hang into a failure; it is never the thing tested.
/// </summary>
public static class Poll
{
    /// <summary>The default deadline: 2 minutes, or 10 in a tests/kernels guest.</summary>
    public static TimeSpan Generous { get; } = TimeSpan.FromMinutes(Guest.Emulated ? 10 : 2);

    /// <summary>Polls <paramref name="condition"/> every <paramref name="intervalMs"/> ms until it holds; fails naming <paramref name="what"/> after the deadline.</summary>
    public static void Until(Func<bool> condition, string what, TimeSpan? deadline = null, int intervalMs = 20) =>
        Until(() => 0, _ => condition(), what, deadline, intervalMs);

    /// <summary>Reads <paramref name="read"/> until <paramref name="done"/> accepts the value, and returns it; fails with the last value after the deadline.</summary>
    public static T Until<T>(Func<T> read, Func<T, bool> done, string what, TimeSpan? deadline = null, int intervalMs = 20)
    {
        var clock = Stopwatch.StartNew();
        TimeSpan limit = deadline ?? Generous;
        while (true)
        {
            T value = read();
            if (done(value))
            {
                return value;
            }
            if (clock.Elapsed > limit)
            {
                Assert.Fail($"{what}: still not so after {limit.TotalSeconds:0} s (last value: {value})");
            }
            Thread.Sleep(intervalMs);
        }
    }

    /// <summary>Waits for <paramref name="task"/>; fails naming <paramref name="what"/> when it has not finished by the deadline.</summary>
    public static T Finished<T>(Task<T> task, string what, TimeSpan? deadline = null)
    {
        TimeSpan limit = deadline ?? Generous;
        Assert.True(task.Wait(limit, TestContext.Current.CancellationToken), $"{what}: not finished after {limit.TotalSeconds:0} s");
        return task.Result;
    }
}
