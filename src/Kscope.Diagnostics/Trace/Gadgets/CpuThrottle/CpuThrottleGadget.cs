namespace Kscope.Diagnostics.Trace.Gadgets.CpuThrottle;

/// <summary><c>trace cpu-throttle</c>: CFS bandwidth throttling of the target's cgroup, polled from cpu.stat (no eBPF).</summary>
public sealed class CpuThrottleGadget : Gadget
{
    public override string Name => "cpu-throttle";

    public override string Summary => "CFS bandwidth throttling of the target's cgroup: periods, throttled periods and time per interval (cpu.stat)";

    public override GadgetKind Kind => GadgetKind.Poll;

    public override IReadOnlyList<string> Needs { get; } = ["cgroup:cpu.stat"];

    public override IReadOnlyList<string> Columns { get; } = ["periods", "throttled", "throttled_pct", "throttled_ms", "cgroup"];

    public override IReadOnlyDictionary<string, IReadOnlyList<string>> Schema { get; } = new Dictionary<string, IReadOnlyList<string>>
    {
        ["event"] = ["time_ns", "cgroup", "periods", "throttled", "throttled_pct", "throttled_ms"],
    };

    public override string? Object => null;
}
