namespace Kscope.Kernel.Bpf.Loader;

/// <summary>
/// An <c>extern</c> variable of an object that the loader resolves at load time. <c>__kconfig</c> externs
/// (<c>LINUX_KERNEL_VERSION</c>, <c>LINUX_HAS_BPF_COOKIE</c>, <c>CONFIG_*</c>) live at
/// <see cref="Offset"/> in the object's read-only <c>.kconfig</c> map, laid out as libbpf lays them out.
/// </summary>
/// <param name="Name">The symbol name.</param>
/// <param name="Offset">Byte offset in the .kconfig map value.</param>
/// <param name="Size">Size of the variable's BTF type.</param>
/// <param name="Weak">Declared <c>__weak</c>: an unknown value reads as zero instead of failing the load.</param>
/// <param name="BtfTypeId">The variable's type in the object's BTF (int, bool, char array, enum).</param>
public sealed record ExternSpec(string Name, uint Offset, uint Size, bool Weak, int BtfTypeId);
