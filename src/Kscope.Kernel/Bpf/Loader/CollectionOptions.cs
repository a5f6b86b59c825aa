namespace Kscope.Kernel.Bpf.Loader;

/// <summary>How to load a collection.</summary>
public sealed record CollectionOptions
{
    /// <summary>Load only these programs (by function name); null loads all.</summary>
    public IReadOnlySet<string>? Programs { get; init; }

    /// <summary>Pin programs as DIR/&lt;name&gt; and maps marked LIBBPF_PIN_BY_NAME as DIR/&lt;map&gt;.</summary>
    public string? PinDirectory { get; init; }

    public ProgramLoadOptions ProgramOptions { get; init; } = ProgramLoadOptions.Default;

    /// <summary>
    /// Where CO-RE results are kept per boot (<see cref="Kscope.Kernel.Bpf.Loader.CoreCache.Default"/>: /run/kscope or $KSCOPE_CACHE_DIR);
    /// null resolves against the kernel's BTF every time.
    /// </summary>
    public CoreCache? CoreCache { get; init; } = Kscope.Kernel.Bpf.Loader.CoreCache.Default;
}
