namespace Kscope.Diagnostics.Symbols;

/// <summary>
/// User addresses of a process to frame strings through a snapshot of its mappings and the one
/// resolver (<see cref="AddressResolver"/>: Go pclntab, ELF .symtab, else .dynsym, JIT perf map):
/// "function+0xoff [module]" (Go: "function file:line [module]", inlined frames expanded), or
/// "module+0xoffset" (file offset) when no symbol covers the address, "0xADDRESS" outside every mapping.
/// </summary>
public sealed class UserFrames
{
    private readonly ProcessImage _image;
    private readonly AddressResolver _resolver;

    private UserFrames(ProcessImage image, AddressResolver resolver) => (_image, _resolver) = (image, resolver);

    /// <summary>Executable file mappings in the snapshot.</summary>
    public int MappingCount => _image.Regions.Count;

    /// <summary>The mappings of <paramref name="pid"/> now, or null when the process is gone (or has no user mappings: a zombie).</summary>
    public static UserFrames? Of(int pid, BinaryCache? binaries = null) => Of(pid, new AddressResolver(binaries));

    /// <summary>Like <see cref="Of(int, BinaryCache?)"/>, sharing a resolver (and its caches) between snapshots.</summary>
    public static UserFrames? Of(int pid, AddressResolver resolver)
    {
        ProcessImage image = ProcessImage.FromProc(pid);
        return image.Regions.Count == 0 ? null : new UserFrames(image, resolver);
    }

    /// <summary>The innermost frame of <paramref name="address"/> as one string (see <see cref="ResolveAll"/>).</summary>
    public string Resolve(ulong address, bool leaf = true) => ResolveAll(address, leaf)[0];

    /// <summary>
    /// Frames of <paramref name="address"/>, innermost first (several when Go inlined calls there).
    /// <paramref name="leaf"/> false: a return address (the resolver looks it up inside the call).
    /// </summary>
    public IReadOnlyList<string> ResolveAll(ulong address, bool leaf = true)
    {
        Resolution r = _resolver.Resolve(_image, address, returnAddress: !leaf);
        if (r.Mapping is null && r.Frames.Count == 0)
        {
            return [$"0x{address:x}"];
        }
        string module = r.Mapping is { } m ? Path.GetFileName(m.Path) : r.Module ?? "?";
        if (r.Frames.Count > 0)
        {
            return r.Frames.Select(f => $"{f} [{module}]").ToArray();
        }
        return [$"{module}+0x{r.FileOffset:x}"];
    }
}
