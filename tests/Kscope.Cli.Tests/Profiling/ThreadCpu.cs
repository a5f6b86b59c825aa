using System.Globalization;

namespace Kscope.Cli.Tests.Profiling;

/// <summary>
/// The kernel's own count of CPU time per thread (/proc/PID/task/TID/schedstat, first field: nanoseconds on
/// CPU), the oracle for "every thread that ran was sampled, as often as its CPU time says".
/// </summary>
internal static class ThreadCpu
{
    /// <summary>Nanoseconds on CPU so far, per thread of <paramref name="pid"/>.</summary>
    public static Dictionary<int, long> Read(int pid)
    {
        var result = new Dictionary<int, long>();
        string[] dirs;
        try
        {
            dirs = Directory.GetDirectories($"/proc/{pid}/task");
        }
        catch (DirectoryNotFoundException)
        {
            return result;
        }
        foreach (string dir in dirs)
        {
            try
            {
                string text = File.ReadAllText(Path.Combine(dir, "schedstat"));
                result[int.Parse(Path.GetFileName(dir), CultureInfo.InvariantCulture)] = long.Parse(text.Split(' ')[0], CultureInfo.InvariantCulture);
            }
            catch (IOException)
            {
                // the thread exited
            }
        }
        return result;
    }

    /// <summary>CPU time each thread used between two readings (a thread born in between: all of its time).</summary>
    public static Dictionary<int, long> Delta(Dictionary<int, long> before, Dictionary<int, long> after) =>
        after.ToDictionary(a => a.Key, a => a.Value - before.GetValueOrDefault(a.Key));
}
