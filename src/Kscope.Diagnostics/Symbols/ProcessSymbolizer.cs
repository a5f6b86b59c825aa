using Kscope.Diagnostics.Profiling;
using Kscope.Formats;

namespace Kscope.Diagnostics.Symbols;

/// <summary>
/// Symbolizes runtime addresses of a live process (<c>kscope symbolize --pid</c>): kernel addresses
/// through /proc/kallsyms, others through the process's mappings (/proc/PID/maps; binaries opened
/// through /proc/PID/root) to the ELF or Go binary, else through its JIT perf map (/tmp/perf-PID.map).
/// </summary>
public sealed class ProcessSymbolizer
{
    private const ulong KernelStart = 0xffff_8000_0000_0000;

    private readonly ProcessImage _image;
    private readonly BinaryCache _binaries;
    private readonly Lazy<KernelSymbols> _kernel = new(() => KernelSymbols.LoadOrEmpty());
    private readonly Lazy<PerfMap?> _perfMap;

    private ProcessSymbolizer(ProcessImage image, BinaryCache binaries)
    {
        _image = image;
        _binaries = binaries;
        _perfMap = new(() => PerfMap.Read(image.Pid));
    }

    public int Pid => _image.Pid;

    /// <summary>The process's symbolizer; throws <see cref="ArgumentException"/> when it does not exist.</summary>
    public static ProcessSymbolizer Attach(int pid, BinaryCache? binaries = null)
    {
        if (!Directory.Exists($"/proc/{pid}"))
        {
            throw new ArgumentException($"no process {pid}");
        }
        return new ProcessSymbolizer(ProcessImage.FromProc(pid), binaries ?? new BinaryCache());
    }

    /// <summary>Frames (innermost first) and the module the address is in ("[kernel]", a path, "[jit]"), or no frames.</summary>
    public (IReadOnlyList<SymbolizedFrame> Frames, string? Module) Symbolize(ulong address)
    {
        if (address >= KernelStart)
        {
            return _kernel.Value.Lookup(address) is { } name ? ([new SymbolizedFrame(address, name, null, 0, 0, false)], "[kernel]") : ([], "[kernel]");
        }
        if (_image.Find(address) is { } region)
        {
            if (_binaries.Get(_image.Pid, region.Path) is { } binary)
            {
                ulong fileOffset = address - region.Start + region.Offset;
                if (binary.Elf.TryGetVirtualAddress(fileOffset, out ulong vaddr))
                {
                    try
                    {
                        return (binary.Symbolize(vaddr), region.Path);
                    }
                    catch (MalformedDataException)
                    {
                    }
                }
                return ([], region.Path);
            }
            if (_perfMap.Value?.Lookup(address) is { } jit)
            {
                return ([new SymbolizedFrame(address, jit, null, 0, 0, false)], "[jit]");
            }
            return ([], region.Path);
        }
        return _perfMap.Value?.Lookup(address) is { } named ? ([new SymbolizedFrame(address, named, null, 0, 0, false)], "[jit]") : ([], null);
    }
}
