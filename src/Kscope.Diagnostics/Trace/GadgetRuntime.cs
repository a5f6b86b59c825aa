namespace Kscope.Diagnostics.Trace;

/// <summary>
/// The eBPF runtime the gadgets use. The object loader of Kscope.Kernel.Bpf (issue 4) registers
/// itself here once it exists; until then the eBPF gadgets report that they cannot run and only the
/// polling gadget (cpu-throttle) works.
/// </summary>
public static class GadgetRuntime
{
    public static IGadgetRuntime? Current { get; set; }

    public static IGadgetRuntime Require(Gadget gadget) => Current ?? throw new GadgetRuntimeUnavailableException(
        $"trace {gadget.Name}: this kscope build has no eBPF object loader yet (Kscope.Kernel.Bpf, issue 4); " +
        "the gadget's object is embedded and passes the kernel verifier under bpftool, but kscope cannot load it itself. " +
        "'kscope trace cpu-throttle' works now");
}
