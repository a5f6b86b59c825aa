namespace Kscope.Kernel.Bpf;

/// <summary>How to load a collection.</summary>
public sealed record CollectionOptions
{
    /// <summary>Load only these programs (by function name); null loads all.</summary>
    public IReadOnlySet<string>? Programs { get; init; }

    /// <summary>Pin programs as DIR/&lt;name&gt; and maps marked LIBBPF_PIN_BY_NAME as DIR/&lt;map&gt;.</summary>
    public string? PinDirectory { get; init; }

    public ProgramLoadOptions ProgramOptions { get; init; } = ProgramLoadOptions.Default;
}
