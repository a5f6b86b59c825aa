using System.Reflection;

namespace Kscope.Diagnostics.Trace;

/// <summary>
/// The compiled eBPF objects of the built-in gadgets, embedded from bpf/gadgets/*.bpf.o
/// (clang-14 -O2 -g -target bpf, CO-RE; see bpf/gadgets/Makefile).
/// </summary>
public static class GadgetObjects
{
    private const string Prefix = "gadgets/";

    /// <summary>Names of the embedded objects without ".bpf.o" (exec, open, syscalls…).</summary>
    public static IReadOnlyList<string> Names { get; } = typeof(GadgetObjects).Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal) && n.EndsWith(".bpf.o", StringComparison.Ordinal))
        .Select(n => n[Prefix.Length..^".bpf.o".Length])
        .Order(StringComparer.Ordinal)
        .ToArray();

    /// <summary>The bytes of gadget <paramref name="name"/>'s object (an ELF relocatable for the BPF machine).</summary>
    public static byte[] Load(string name)
    {
        Assembly assembly = typeof(GadgetObjects).Assembly;
        using Stream stream = assembly.GetManifestResourceStream($"{Prefix}{name}.bpf.o")
            ?? throw new ArgumentException($"no built-in gadget object '{name}' (have: {string.Join(", ", Names)})", nameof(name));
        byte[] bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }
}
