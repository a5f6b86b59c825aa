using Kscope.Diagnostics.Pprof;
using Kscope.Formats.Pprof;

namespace Kscope.Diagnostics.Tests.Pprof;

/// <summary>kscope's flat/cum per function agree with <c>go tool pprof -top -nodecount=20</c>.</summary>
public class PprofTopDifferentialTests
{
    private static string Large => Path.Combine(Tools.SharedTestData, "pprof", "internal", "proftest", "testdata", "large.cpu");

    [Fact]
    public void Top_LargeSharedProfile_MatchesGoToolPprof() => AssertMatchesGo(Large, null);

    [Fact]
    public void Top_GoRuntimeCpuAndHeapProfiles_MatchGoToolPprof()
    {
        string cpu = Path.Combine(GoProgram.Dir, "diff-cpu.pb.gz");
        string heap = Path.Combine(GoProgram.Dir, "diff-heap.pb.gz");
        GoProgram.Run("-cpuprofile", cpu, "-heapprofile", heap, "-for", "2s");
        AssertMatchesGo(cpu, null);
        AssertMatchesGo(heap, null);
        AssertMatchesGo(heap, "alloc_space");
        AssertMatchesGo(heap, "alloc_objects");
        List<TopEntry> top = TopReport.Compute(StackSet.From(ProfileReader.Read(File.ReadAllBytes(cpu))));
        Assert.Contains(top.Take(6), e => e.Name == "main.hotInner");
        Assert.Equal(top.Single(e => e.Name == "main.main").Cum, top.Single(e => e.Name == "main.burn").Cum);
    }

    private static void AssertMatchesGo(string path, string? sampleIndex)
    {
        Requires.Tool("go", "golang-go");
        List<GoPprofTop.Row> expected = GoPprofTop.Run(path, 20, sampleIndex);
        Dictionary<string, TopEntry> ours = TopReport.Compute(StackSet.From(ProfileReader.Read(File.ReadAllBytes(path)), sampleIndex)).ToDictionary(e => e.Name);
        foreach (GoPprofTop.Row row in expected)
        {
            Assert.True(ours.TryGetValue(row.Name, out TopEntry? e), $"go tool pprof lists {row.Name}; kscope does not");
            Assert.True(Math.Abs(e!.Flat - row.Flat) <= row.FlatTolerance, $"{row.Name}: flat {e.Flat} vs go {row.Flat}");
            Assert.True(Math.Abs(e.Cum - row.Cum) <= row.CumTolerance, $"{row.Name}: cum {e.Cum} vs go {row.Cum}");
        }
    }
}
