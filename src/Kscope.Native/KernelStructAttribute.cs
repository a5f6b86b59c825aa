namespace Kscope.Native;

/// <summary>
/// Marks a managed mirror of a kernel struct. Tests (and <c>kscope btf verify</c>) check its size and
/// every field offset against the running kernel's BTF, so a wrong layout fails CI before any
/// syscall or ioctl is made.
/// </summary>
[AttributeUsage(AttributeTargets.Struct, AllowMultiple = false, Inherited = false)]
public sealed class KernelStructAttribute : Attribute
{
    public KernelStructAttribute(string name) => Name = name;

    /// <summary>The kernel's name, e.g. "kvm_run" or "perf_event_attr" (a union: "bpf_attr").</summary>
    public string Name { get; }

    /// <summary>
    /// True when the managed struct is a prefix of the kernel's (only the leading fields we use;
    /// the kernel accepts a smaller size, as for bpf_attr pieces). Then size may be smaller.
    /// </summary>
    public bool Prefix { get; init; }
}

/// <summary>
/// Names the kernel member a managed field mirrors. Without it, the managed name converted from
/// PascalCase to snake_case is used ("ExitReason" -> "exit_reason", "Cr0" -> "cr0", "ApicBase" ->
/// "apic_base"). The verifier checks every instance field's offset (and size where the kernel's
/// member has one) against BTF; fields marked <see cref="KernelPaddingAttribute"/> are skipped.
/// </summary>
[AttributeUsage(AttributeTargets.Field, AllowMultiple = false, Inherited = false)]
public sealed class KernelFieldAttribute : Attribute
{
    public KernelFieldAttribute(string path) => Path = path;

    /// <summary>Dotted path inside the kernel struct, through anonymous members, e.g. "map_fd" or "key".</summary>
    public string Path { get; }
}

/// <summary>A managed-only field (explicit padding, reserved bytes) that has no kernel member to check.</summary>
[AttributeUsage(AttributeTargets.Field, AllowMultiple = false, Inherited = false)]
public sealed class KernelPaddingAttribute : Attribute
{
}
