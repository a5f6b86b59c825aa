namespace Kscope.Kernel.Bpf;

/// <summary>
/// Everything needed to create a map, independent of the kernel (cilium/ebpf's MapSpec). Parsed from
/// an object's <c>.maps</c>/<c>maps</c>/global-data sections or written by hand; <see cref="Map.Create"/>
/// turns it into a kernel object.
/// </summary>
public sealed record MapSpec
{
    public required string Name { get; init; }

    public required MapType Type { get; init; }

    public uint KeySize { get; init; }

    public uint ValueSize { get; init; }

    public uint MaxEntries { get; init; }

    /// <summary>BPF_F_* map_flags (BPF_F_NO_PREALLOC = 1, BPF_F_RDONLY_PROG = 1 &lt;&lt; 7, BPF_F_MMAPABLE = 1 &lt;&lt; 10…).</summary>
    public uint Flags { get; init; }

    /// <summary>LIBBPF_PIN_BY_NAME in the object: pin under the collection's pin directory by <see cref="Name"/>.</summary>
    public bool PinByName { get; init; }

    /// <summary>Initial contents written after creation (global data: one entry at key 0).</summary>
    public IReadOnlyList<KeyValuePair<byte[], byte[]>>? Contents { get; init; }

    /// <summary>Freeze after writing <see cref="Contents"/> (.rodata).</summary>
    public bool Freeze { get; init; }

    /// <summary>BTF type ids of key and value in the object's BTF (0 = none); for the kernel and for decoding.</summary>
    public uint BtfKeyTypeId { get; init; }

    public uint BtfValueTypeId { get; init; }

    /// <summary>The ELF section the spec came from (".maps", ".bss", …), for diagnostics.</summary>
    public string? Section { get; init; }

    /// <summary>Inner map template of map-in-map types.</summary>
    public MapSpec? InnerMap { get; init; }

    public MapSpec Copy() => this with { };
}
