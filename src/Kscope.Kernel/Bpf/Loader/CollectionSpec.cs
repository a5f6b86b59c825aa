using Kscope.Formats;
using Kscope.Formats.Btf;
using Kscope.Formats.Elf;
using Kscope.Native;
using BtfTypes = Kscope.Formats.Btf.Btf;

namespace Kscope.Kernel.Bpf.Loader;

/// <summary>
/// Everything in an eBPF ELF object, parsed and linked but not yet loaded (cilium/ebpf's CollectionSpec):
/// maps (BTF-defined <c>.maps</c>, legacy <c>maps</c>, and global data sections as one-entry array maps),
/// programs (one per function in a program section, with their subprograms appended and calls
/// resolved), global variables, and the object's BTF. Deterministic: nothing here depends on the
/// running kernel; <see cref="Collection.Load"/> applies CO-RE and creates the kernel objects.
/// </summary>
public sealed class CollectionSpec
{
    internal CollectionSpec(string name, Dictionary<string, MapSpec> maps, Dictionary<string, ProgramSpec> programs,
        Dictionary<string, VariableSpec> variables, BtfTypes? btf, byte[]? kernelBtf, string license, uint kernelVersion)
    {
        Name = name;
        Maps = maps;
        Programs = programs;
        Variables = variables;
        Btf = btf;
        KernelBtf = kernelBtf;
        License = license;
        KernelVersion = kernelVersion;
    }

    /// <summary>The object's name (file name without ".o").</summary>
    public string Name { get; }

    public Dictionary<string, MapSpec> Maps { get; }

    /// <summary>Programs by function name.</summary>
    public Dictionary<string, ProgramSpec> Programs { get; }

    /// <summary>Global variables by name.</summary>
    public Dictionary<string, VariableSpec> Variables { get; }

    /// <summary>The object's BTF (types of maps, variables, CO-RE relocations), when it has any.</summary>
    public BtfTypes? Btf { get; }

    /// <summary>The object's .BTF with DATASEC sizes and variable offsets fixed up, ready for BPF_BTF_LOAD.</summary>
    public byte[]? KernelBtf { get; }

    public string License { get; }

    public uint KernelVersion { get; }

    /// <summary><c>__kconfig</c> externs, resolved at load time into the read-only <c>.kconfig</c> map.</summary>
    public IReadOnlyList<ExternSpec> Externs { get; internal init; } = [];

    /// <summary>Where the object came from when it was embedded in another file (e.g. a libbpf-tools executable), else null.</summary>
    public string? Origin { get; internal set; }

    /// <summary>
    /// Reads an object file (clang -O2 -g -target bpf). An executable that embeds exactly one eBPF object
    /// (a libbpf skeleton, e.g. BCC's libbpf-tools) is read as that object (<see cref="Origin"/> says where).
    /// </summary>
    public static CollectionSpec LoadObject(string path)
    {
        byte[] bytes = InputFile.ReadAllBytes(path);
        if (!ElfFile.IsElf(bytes) || EmbeddedBpfObjects.LooksLikeBpfHeader(bytes, 0))
        {
            return ObjectReader.Read(bytes, Path.GetFileNameWithoutExtension(path));
        }
        IReadOnlyList<EmbeddedBpfObject> found = EmbeddedBpfObjects.Find(bytes);
        switch (found.Count)
        {
            case 0:
                throw new MalformedDataException("bpf object", 18, $"{path} is an ELF file for another machine (not EM_BPF) and embeds no eBPF object");
            case 1:
                EmbeddedBpfObject o = found[0];
                CollectionSpec spec = ObjectReader.Read(bytes.AsSpan((int)o.Offset, o.Length).ToArray(), Path.GetFileName(path).Split('.')[0]);
                spec.Origin = $"embedded in {path} at offset 0x{o.Offset:x} ({o.Length} bytes)";
                return spec;
            default:
                throw new NotSupportedException($"{path} embeds {found.Count} eBPF objects (at {string.Join(", ", found.Select(f => $"0x{f.Offset:x}+{f.Length}"))}); " +
                    $"extract one first, e.g. dd if={path} of=one.bpf.o bs=1 skip={found[0].Offset} count={found[0].Length}");
        }
    }

    /// <summary>Parses object bytes.</summary>
    public static CollectionSpec Parse(byte[] elf, string name = "object") => ObjectReader.Read(elf, name);

    /// <summary>
    /// Sets a global variable's initial value before load (<c>const volatile</c> in .rodata, or .data).
    /// <paramref name="value"/> must be exactly the variable's size.
    /// </summary>
    public void SetVariable(string name, ReadOnlySpan<byte> value)
    {
        if (!Variables.TryGetValue(name, out VariableSpec? v))
        {
            throw new KeyNotFoundException($"object '{Name}' has no global variable '{name}'");
        }
        if (value.Length != v.Size)
        {
            throw new ArgumentException($"variable '{name}' is {v.Size} bytes, got {value.Length}");
        }
        MapSpec map = Maps[v.MapName];
        byte[] contents = map.Contents is { Count: 1 } c ? c[0].Value : new byte[map.ValueSize];
        value.CopyTo(contents.AsSpan((int)v.Offset));
        Maps[v.MapName] = map with { Contents = [new(new byte[4], contents)] };
    }

    public void SetVariable<T>(string name, T value) where T : unmanaged =>
        SetVariable(name, System.Runtime.InteropServices.MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value)));
}
