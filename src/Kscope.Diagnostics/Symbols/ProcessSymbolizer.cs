namespace Kscope.Diagnostics.Symbols;

/// <summary>
/// Symbolizes runtime addresses of a live process (<c>kscope symbolize --pid</c>) through the one
/// resolver (<see cref="AddressResolver"/>): kernel addresses through /proc/kallsyms, others through
/// the process's mappings (/proc/PID/maps; binaries opened through /proc/PID/root) to the ELF or Go
/// binary, else through its JIT perf map (/tmp/perf-PID.map). Addresses are taken as given (leaf
/// addresses, no return-address adjustment).
/// </summary>
public sealed class ProcessSymbolizer
{
    private readonly ProcessImage _image;
    private readonly AddressResolver _resolver;

    private ProcessSymbolizer(ProcessImage image, AddressResolver resolver) => (_image, _resolver) = (image, resolver);

    public int Pid => _image.Pid;

    /// <summary>The process's symbolizer; throws <see cref="ArgumentException"/> when it does not exist.</summary>
    public static ProcessSymbolizer Attach(int pid, BinaryCache? binaries = null)
    {
        if (!Directory.Exists($"/proc/{pid}"))
        {
            throw new ArgumentException($"no process {pid}");
        }
        return new ProcessSymbolizer(ProcessImage.FromProc(pid), new AddressResolver(binaries));
    }

    /// <summary>Frames (innermost first) and the module the address is in ("[kernel]", a path, "[jit]"), or no frames.</summary>
    public (IReadOnlyList<SymbolizedFrame> Frames, string? Module) Symbolize(ulong address)
    {
        Resolution r = _resolver.Resolve(_image, address, returnAddress: false);
        return (r.Frames, r.Module);
    }
}
