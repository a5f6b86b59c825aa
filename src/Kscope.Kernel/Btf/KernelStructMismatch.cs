namespace Kscope.Kernel.Btf;

/// <summary>One difference between a managed mirror and the kernel's BTF; <see cref="Field"/> is null for the struct as a whole.</summary>
public sealed record KernelStructMismatch(string TypeName, string KernelName, string? Field, string Message)
{
    public override string ToString() => Field is null
        ? $"{TypeName} (struct {KernelName}): {Message}"
        : $"{TypeName}.{Field} ({KernelName}): {Message}";
}
