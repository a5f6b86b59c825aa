using Kscope.Formats.Procfs;
using Kscope.Kernel.Host;

namespace Kscope.Diagnostics.Symbols;

/// <summary>
/// User addresses of a live process to "module+0xoffset" through /proc/PID/maps (file offset of the
/// mapping added). The profiler's ELF/Go/.NET symbolizer turns these into function names.
/// </summary>
public sealed class UserFrames
{
    private readonly IReadOnlyList<ProcMapsEntry> _maps;

    private UserFrames(IReadOnlyList<ProcMapsEntry> maps) => _maps = maps;

    /// <summary>The mappings of <paramref name="pid"/>, or null when the process is gone.</summary>
    public static UserFrames? Of(int pid)
    {
        try
        {
            return new UserFrames(Procfs.Maps(pid));
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

    public string Resolve(ulong address)
    {
        foreach (ProcMapsEntry m in _maps)
        {
            if (address >= m.Start && address < m.End && !string.IsNullOrEmpty(m.Path))
            {
                return $"{Path.GetFileName(m.Path)}+0x{address - m.Start + m.Offset:x}";
            }
        }
        return $"0x{address:x}";
    }
}
