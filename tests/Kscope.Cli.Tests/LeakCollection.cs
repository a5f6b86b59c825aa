namespace Kscope.Cli.Tests;

/// <summary>Tests that count /proc/self/fd run alone, after the parallel ones, so other tests' fds do not skew them.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LeakCollection
{
    public const string Name = "fd leak checks";
}
