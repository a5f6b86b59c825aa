using Kscope.Fuzz;

namespace Kscope.Kernel.Tests.Fuzz;

/// <summary>fuzz/regressions of the Kernel-layer targets (the loader path, perf records), replayed through the fuzz contract.</summary>
public sealed class FuzzRegressionTests
{
    public static TheoryData<string, string> Inputs => FuzzRegressions.Inputs(KernelTargets.All.Select(t => t.Name));

    [Theory]
    [MemberData(nameof(Inputs))]
    public void Regression_Replayed_ReturnsOrThrowsTypedWithinBounds(string target, string file) =>
        FuzzRegressions.Replay(target, file, input => KernelTargets.All.Single(t => t.Name == target).Run(input));
}
