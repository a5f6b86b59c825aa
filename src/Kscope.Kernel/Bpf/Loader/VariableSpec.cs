namespace Kscope.Kernel.Bpf.Loader;

/// <summary>A global variable in a data section (.rodata, .data, .bss): where it lives and its BTF type.</summary>
public sealed record VariableSpec(string Name, string MapName, uint Offset, uint Size, int BtfTypeId);
