using Kscope.Formats.Procfs;

namespace Kscope.Formats.Cgroups;

/// <summary>Single-value cgroup interface files: memory.max, pids.max ("max" or a number), v1 byte counters.</summary>
public static class CgroupValue
{
    /// <summary>A limit that may be "max" (v2) -> null.</summary>
    public static ulong? Limit(string text, string source)
    {
        string content = CpuMax.SingleLine("cgroup limit", text, source).Trim();
        return content == "max" ? null : TextParsing.U64("cgroup limit", source, 1, content, "value");
    }

    /// <summary>An unsigned counter or v1 limit (memory.limit_in_bytes, memory.usage_in_bytes, pids.current).</summary>
    public static ulong Number(string text, string source)
    {
        string content = CpuMax.SingleLine("cgroup value", text, source).Trim();
        return TextParsing.U64("cgroup value", source, 1, content, "value");
    }
}
