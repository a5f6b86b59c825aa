namespace Kscope.Kernel.Host;

/// <summary>How cgroups are mounted: only v1 hierarchies, only the v2 unified one, or both (hybrid).</summary>
public enum CgroupMode
{
    None,
    V1,
    V2,
    Hybrid,
}
