using Kscope.Formats;
using Kscope.Formats.Procfs;
using Kscope.Kernel.Host;

namespace Kscope.Diagnostics.Symbols;

/// <summary>
/// User addresses of a process to frames through a snapshot of /proc/PID/maps and the profiler's
/// symbolizer (<see cref="BinarySymbolizer"/>: Go pclntab, ELF .symtab, else .dynsym):
/// "function+0xoff [module]" (Go: "function file:line [module]", inlined frames expanded), or
/// "module+0xoffset" (file offset) when no symbol covers the address.
/// </summary>
public sealed class UserFrames
{
    private readonly int _pid;
    private readonly IReadOnlyList<ProcMapsEntry> _maps;
    private readonly BinaryCache _binaries;

    private UserFrames(int pid, IReadOnlyList<ProcMapsEntry> maps, BinaryCache binaries) => (_pid, _maps, _binaries) = (pid, maps, binaries);

    /// <summary>Executable file mappings in the snapshot.</summary>
    public int MappingCount => _maps.Count;

    /// <summary>The mappings of <paramref name="pid"/> now, or null when the process is gone (or has no user mappings: a zombie).</summary>
    public static UserFrames? Of(int pid, BinaryCache? binaries = null)
    {
        try
        {
            var maps = Procfs.Maps(pid).Where(m => m.IsExecutable && m.Path.StartsWith('/')).ToArray();
            return maps.Length == 0 ? null : new UserFrames(pid, maps, binaries ?? new BinaryCache());
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
        catch (Kscope.Native.KernelException)
        {
            return null; // exited (ENOENT, ESRCH) or not ours to read (EACCES)
        }
    }

    /// <summary>The innermost frame of <paramref name="address"/> as one string (see <see cref="ResolveAll"/>).</summary>
    public string Resolve(ulong address, bool leaf = true) => ResolveAll(address, leaf)[0];

    /// <summary>
    /// Frames of <paramref name="address"/>, innermost first (several when Go inlined calls there).
    /// <paramref name="leaf"/> false: a return address, looked up one byte earlier (inside the call).
    /// </summary>
    public IReadOnlyList<string> ResolveAll(ulong address, bool leaf = true)
    {
        ProcMapsEntry? m = null;
        foreach (ProcMapsEntry e in _maps)
        {
            if (address >= e.Start && address < e.End)
            {
                m = e;
                break;
            }
        }
        if (m is null)
        {
            return [$"0x{address:x}"];
        }
        string module = Path.GetFileName(m.Path);
        ulong fileOffset = address - m.Start + m.Offset;
        ulong lookupOffset = leaf || fileOffset == 0 ? fileOffset : fileOffset - 1;
        if (_binaries.For(_pid, m.Path) is BinarySymbolizer sym && sym.Elf.TryGetVirtualAddress(lookupOffset, out ulong vaddr))
        {
            try
            {
                IReadOnlyList<SymbolizedFrame> frames = sym.Symbolize(vaddr);
                if (frames.Count > 0)
                {
                    // name the return address itself (the lookup was one byte earlier)
                    return frames.Select(f => $"{(leaf || f.File is not null ? f : f with { Offset = f.Offset + 1 })} [{module}]").ToArray();
                }
            }
            catch (MalformedDataException)
            {
                // a damaged symbol table or pclntab: fall back to module+offset
            }
        }
        return [$"{module}+0x{fileOffset:x}"];
    }
}
