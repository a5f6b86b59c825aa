using Kscope.Fuzz;

namespace Kscope.Cli.Tests.Fuzz;

/// <summary>fuzz/regressions of the Diagnostics targets (kallsyms), and the check that every regression folder names a target.</summary>
public sealed class FuzzRegressionTests
{
    public static TheoryData<string, string> Inputs => FuzzRegressions.Inputs(DiagnosticsTargets.All.Select(t => t.Name));

    [Theory]
    [MemberData(nameof(Inputs))]
    public void Regression_Replayed_ReturnsOrThrowsTypedWithinBounds(string target, string file) =>
        FuzzRegressions.Replay(target, file, input => DiagnosticsTargets.All.Single(t => t.Name == target).Run(input));

    [Fact]
    public void RegressionFolders_EachNamesAFuzzTarget_SoSomeTestReplaysIt()
    {
        var targets = FormatsTargets.All.Concat(KernelTargets.All).Concat(DiagnosticsTargets.All).Select(t => t.Name).ToHashSet();
        string[] folders = Directory.GetDirectories(FuzzRegressions.Root).Select(Path.GetFileName).ToArray()!;
        Assert.NotEmpty(folders);
        Assert.All(folders, f => Assert.Contains(f, targets));
    }
}
