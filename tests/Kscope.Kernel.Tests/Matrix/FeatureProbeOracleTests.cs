using System.Text.Json;
using Kscope.Kernel.Bpf;

namespace Kscope.Kernel.Tests.Matrix;

/// <summary>
/// Oracle: kscope's program and map type probes agree with `bpftool feature probe kernel` on the
/// running kernel (the host, and each tests/kernels guest). Types either side cannot decide
/// (kscope's Unknown: tracing/LSM/ext/struct_ops need a BTF target, storage maps need BTF) or that
/// the installed bpftool does not know are left out.
/// </summary>
[Trait("Category", "Kernel")]
public class FeatureProbeOracleTests
{
    private static readonly Lazy<JsonDocument> s_bpftool = new(() =>
        JsonDocument.Parse(Tools.Check(Requires.Tool("bpftool", "bpftool"), "feature", "probe", "kernel", "-j")));

    private static string Key(string name) => name.Replace("_", "", StringComparison.Ordinal).ToLowerInvariant();

    private static Dictionary<string, bool> Bpftool(string section, string suffix)
    {
        var result = new Dictionary<string, bool>(StringComparer.Ordinal);
        foreach (JsonProperty p in s_bpftool.Value.RootElement.GetProperty(section).EnumerateObject())
        {
            if (p.Name.StartsWith("have_", StringComparison.Ordinal) && p.Name.EndsWith(suffix, StringComparison.Ordinal))
            {
                result[Key(p.Name["have_".Length..^suffix.Length])] = p.Value.GetBoolean();
            }
        }
        return result;
    }

    private static void Compare<T>(string what, Dictionary<string, bool> oracle, IEnumerable<T> values, Func<T, FeatureStatus> probe) where T : struct, Enum
    {
        var disagreements = new List<string>();
        int compared = 0;
        foreach (T value in values)
        {
            if (!oracle.TryGetValue(Key(value.ToString()), out bool expected))
            {
                continue;
            }
            FeatureStatus ours = probe(value);
            if (ours == FeatureStatus.Unknown)
            {
                continue;
            }
            compared++;
            if ((ours == FeatureStatus.Present) != expected)
            {
                disagreements.Add($"{value}: kscope {ours}, bpftool {(expected ? "present" : "absent")}");
            }
        }
        Assert.True(disagreements.Count == 0, $"{what} probes disagree with bpftool on {File.ReadAllText("/proc/sys/kernel/osrelease").Trim()}:\n" + string.Join('\n', disagreements));
        Assert.True(compared >= 20, $"only {compared} {what} compared with bpftool");
    }

    [Fact]
    public void ProgramTypes_AgreeWithBpftool()
    {
        Requires.Root();
        Compare("program type", Bpftool("program_types", "_prog_type"),
            Enum.GetValues<ProgramType>().Where(t => t != ProgramType.Unspec), Features.HasProgramType);
    }

    [Fact]
    public void MapTypes_AgreeWithBpftool()
    {
        Requires.Root();
        Compare("map type", Bpftool("map_types", "_map_type"),
            Enum.GetValues<MapType>().Where(t => t != MapType.Unspec), Features.HasMapType);
    }
}
