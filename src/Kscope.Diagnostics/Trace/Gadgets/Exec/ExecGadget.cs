namespace Kscope.Diagnostics.Trace.Gadgets.Exec;

/// <summary><c>trace exec</c>: every execve/execveat with parent, uid, filename, argv and result.</summary>
public sealed class ExecGadget : Gadget
{
    public override string Name => "exec";

    public override string Summary => "process executions: pid, parent, uid, filename, argv, result";

    public override GadgetKind Kind => GadgetKind.Stream;

    public override IReadOnlyList<string> Needs { get; } =
        ["raw_tracepoint:sys_enter", "raw_tracepoint:sys_exit", "map:ringbuf", .. GadgetCatalog.FilterNeeds];

    public override IReadOnlyList<string> Columns { get; } = ["pid", "ppid", "uid", "comm", "result", "filename", "args"];

    public override IReadOnlyDictionary<string, IReadOnlyList<string>> Schema { get; } = new Dictionary<string, IReadOnlyList<string>>
    {
        ["event"] = [.. EventHeader.Keys, "ppid", "result", "error", "filename", "args", "args_truncated"],
    };

    public override IReadOnlyList<Type> Mirrors { get; } = [typeof(ExecEvent), typeof(EventHeaderMirror)];

    public override ITraceRecord Decode(ReadOnlySpan<byte> record) => ExecRecord.Parse(record);
}
