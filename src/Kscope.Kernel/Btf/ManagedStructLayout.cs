namespace Kscope.Kernel.Btf;

/// <summary>
/// A managed struct marked [KernelStruct] as laid out in memory: its size, alignment and every
/// instance field with offset, size and the kernel member path it mirrors.
/// </summary>
public sealed record ManagedStructLayout(
    string TypeName,
    string KernelName,
    bool Prefix,
    int Size,
    int Alignment,
    IReadOnlyList<ManagedField> Fields);

/// <summary>One instance field. <see cref="KernelPath"/> is the [KernelField] path or the snake_case name.</summary>
public sealed record ManagedField(string Name, int Offset, int Size, string KernelPath, bool IsPadding, bool IsFixedBuffer);
