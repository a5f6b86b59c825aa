namespace Kscope.Kernel.Bpf;

/// <summary>/sys/devices/system/cpu/possible ("0-3,5"): per-CPU maps hold one value slot per possible CPU.</summary>
public static class PossibleCpus
{
    private static readonly Lazy<int> s_count = new(() => Parse(File.ReadAllText("/sys/devices/system/cpu/possible")));

    public static int Count => s_count.Value;

    /// <summary>Counts CPUs in a cpulist: the highest id + 1 (per-CPU map slots are indexed by id).</summary>
    public static int Parse(string list)
    {
        int max = -1;
        foreach (string part in list.Trim().Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            string last = part.Contains('-') ? part[(part.IndexOf('-') + 1)..] : part;
            max = Math.Max(max, int.Parse(last, System.Globalization.CultureInfo.InvariantCulture));
        }
        return max + 1;
    }
}
