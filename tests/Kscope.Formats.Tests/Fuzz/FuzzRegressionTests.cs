using Kscope.Fuzz;

namespace Kscope.Formats.Tests.Fuzz;

/// <summary>fuzz/regressions of the Formats targets, replayed through the fuzz contract (typed error, bounded allocation, no hang).</summary>
public sealed class FuzzRegressionTests
{
    public static TheoryData<string, string> Inputs => FuzzRegressions.Inputs(FormatsTargets.All.Select(t => t.Name));

    [Theory]
    [MemberData(nameof(Inputs))]
    public void Regression_Replayed_ReturnsOrThrowsTypedWithinBounds(string target, string file) =>
        FuzzRegressions.Replay(target, file, input => FormatsTargets.All.Single(t => t.Name == target).Run(input));
}
