namespace Kscope.Kernel.Bpf.Loader;

/// <summary>
/// What a CO-RE relocation resolved to against the running kernel's BTF: the value to patch in (offset, size, type id,
/// existence, enum value, shift) and, for a field load, the size the load must take; or why it cannot be satisfied.
/// </summary>
public readonly record struct CoreResult(bool Ok, ulong Value, int NewSize, string? Error);
