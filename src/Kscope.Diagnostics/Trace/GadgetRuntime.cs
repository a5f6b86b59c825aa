namespace Kscope.Diagnostics.Trace;

/// <summary>
/// The eBPF runtime the gadgets use: kscope's own loader (<see cref="BpfGadgetRuntime"/>) unless a
/// test or host replaces it; null means none, and the eBPF gadgets then report that they cannot run.
/// </summary>
public static class GadgetRuntime
{
    public static IGadgetRuntime? Current { get; set; } = new BpfGadgetRuntime();

    public static IGadgetRuntime Require(Gadget gadget) => Current ?? throw new GadgetRuntimeUnavailableException(
        $"trace {gadget.Name}: this kscope build has no eBPF object loader yet (Kscope.Kernel.Bpf, issue 4); " +
        "the gadget's object is embedded and passes the kernel verifier under bpftool, but kscope cannot load it itself. " +
        "'kscope trace cpu-throttle' works now");
}
