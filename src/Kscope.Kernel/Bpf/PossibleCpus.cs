using Kscope.Formats.Cgroups;

namespace Kscope.Kernel.Bpf;

/// <summary>/sys/devices/system/cpu/possible ("0-3,5"): per-CPU maps hold one value slot per possible CPU.</summary>
public static class PossibleCpus
{
    private const string Path = "/sys/devices/system/cpu/possible";

    private static readonly Lazy<int> s_count = new(() => Parse(Host.Procfs.ReadText(Path), Path));

    public static int Count => s_count.Value;

    /// <summary>Counts CPUs in a cpulist: the highest id + 1 (per-CPU map slots are indexed by id, holes included).</summary>
    public static int Parse(string list, string source = Path) => CpuList.Parse(list, source) is { Count: > 0 } cpus ? cpus[^1] + 1 : 0;
}
