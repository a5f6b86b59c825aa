namespace Kscope.TestKit;

/// <summary>How <see cref="ServiceUnderLoad"/> runs the service and its load.</summary>
public sealed record ServiceUnderLoadOptions
{
    /// <summary>GOMAXPROCS of the service (at least 2: several Ms run Go code at once).</summary>
    public int Gomaxprocs { get; init; } = 2;

    /// <summary>Concurrent closed-loop clients of the load generator (1..64).</summary>
    public int Clients { get; init; } = 4;

    /// <summary>Work units per request (one unit is a few ms of CPU: see service/main.go).</summary>
    public int WorkUnits { get; init; } = 4;

    /// <summary>The load generator stops on its own after this long (it is bounded even if a test forgets it).</summary>
    public TimeSpan LoadFor { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Start the load generator with the service (else call <see cref="ServiceUnderLoad.StartLoad"/>).</summary>
    public bool StartLoad { get; init; } = true;

    /// <summary>The service exits on its own after this long (a test runner killed before Dispose leaks nothing for long).</summary>
    public TimeSpan MaxLifetime { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Put the service in a cgroup of its own (every hierarchy: see <see cref="CgroupSet"/>).</summary>
    public bool Cgroup { get; init; }

    /// <summary>A CPU quota in CPUs (e.g. 0.5) on the service's cgroup; implies <see cref="Cgroup"/>.</summary>
    public double? CpuQuota { get; init; }

    /// <summary>
    /// A container id (64 hex digits, see <see cref="ServiceUnderLoad.NewContainerId"/>): the cgroup is then
    /// <c>kscope-svc-…/docker-ID.scope</c>, as Docker/systemd name them; implies <see cref="Cgroup"/>.
    /// </summary>
    public string? ContainerId { get; init; }

    /// <summary>Build the service as a PIE (-buildmode=pie) instead of a static EXEC.</summary>
    public bool Pie { get; init; }

    internal bool WantsCgroup => Cgroup || CpuQuota is not null || ContainerId is not null;
}
