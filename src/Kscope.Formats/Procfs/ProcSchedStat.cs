namespace Kscope.Formats.Procfs;

/// <summary>
/// /proc/PID/schedstat and /proc/PID/task/TID/schedstat (Documentation/scheduler/sched-stats.rst, fs/proc/base.c
/// proc_pid_schedstat): one line of three unsigned numbers, <c>RUN WAIT SLICES</c> — nanoseconds spent on a CPU,
/// nanoseconds spent runnable on a run queue (waiting for a CPU), and the number of timeslices run. The kernel
/// prints <c>0 0 0</c> when schedstats are off.
/// </summary>
public sealed record ProcSchedStat(ulong RunNs, ulong WaitNs, ulong Timeslices)
{
    private const string Format = "proc schedstat";

    public static ProcSchedStat Parse(string text, string source = "/proc/self/schedstat")
    {
        string content = text.EndsWith('\n') ? text[..^1] : text;
        if (content.Length == 0)
        {
            throw new MalformedDataException(Format, source, 1, "empty");
        }
        if (content.Contains('\n'))
        {
            throw new MalformedDataException(Format, source, 2, "expected a single line");
        }
        string[] f = TextParsing.Fields(content);
        if (f.Length != 3)
        {
            throw new MalformedDataException(Format, source, 1, $"expected 'run_ns wait_ns timeslices', got '{TextParsing.Clip(content)}'");
        }
        return new ProcSchedStat(
            TextParsing.U64(Format, source, 1, f[0], "run_ns"),
            TextParsing.U64(Format, source, 1, f[1], "wait_ns"),
            TextParsing.U64(Format, source, 1, f[2], "timeslices"));
    }
}
