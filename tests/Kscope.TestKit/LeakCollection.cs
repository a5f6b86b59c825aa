namespace Kscope.TestKit;

/// <summary>
/// Tests that count this process's fds (<see cref="FdCounter"/>) run alone, after the parallel ones, so other
/// tests' fds do not skew them; <see cref="FdCounter.AssertNoGrowth"/> refuses to run anywhere else.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LeakCollection
{
    public const string Name = "fd leak checks";
}
