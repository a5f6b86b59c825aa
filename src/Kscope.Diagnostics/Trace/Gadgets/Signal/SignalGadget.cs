namespace Kscope.Diagnostics.Trace.Gadgets.Signal;

/// <summary>
/// <c>trace signal</c>: signals sent (to or by a target, any of its threads) and delivered. A fatal signal is
/// reported as sent, marked fatal, not as the SIGKILL the kernel turns it into; the SIGKILLs with which the
/// kernel ends a process's other threads at exit or exec are not reported (no one sent them).
/// </summary>
public sealed class SignalGadget : Gadget
{
    public override string Name => "signal";

    public override string Summary => "signals sent and delivered: sender, target, signal, result";

    public override GadgetKind Kind => GadgetKind.Stream;

    public override IReadOnlyList<string> Needs { get; } =
        ["raw_tracepoint:signal_generate", "tracepoint:signal/signal_deliver", "map:ringbuf", .. GadgetCatalog.FilterNeeds];

    public override IReadOnlyList<string> Columns { get; } = ["pid", "comm", "event", "signal", "target_tid", "target_comm", "result"];

    public override IReadOnlyDictionary<string, IReadOnlyList<string>> Schema { get; } = new Dictionary<string, IReadOnlyList<string>>
    {
        ["event"] = [.. EventHeader.Keys, "event", "signal", "target_tid", "target_comm", "code", "result", "handler", "fatal"],
    };

    public override IReadOnlyList<Type> Mirrors { get; } = [typeof(SignalEvent), typeof(EventHeaderMirror)];

    public override ITraceRecord Decode(ReadOnlySpan<byte> record) => SignalRecord.Parse(record);
}
