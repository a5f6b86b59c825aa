using Kscope.Formats;
using Kscope.Formats.Elf;

namespace Kscope.Diagnostics.Symbols;

/// <summary>
/// One <see cref="BinarySymbolizer"/> per mapped file path, opened through /proc/PID/root first (the
/// process's own mount namespace: a container's binaries), then the path as seen by kscope. Files that
/// are not ELF, unreadable or gone are remembered as null. Shared by the CPU profiler and trace stacks.
/// </summary>
public sealed class BinaryCache
{
    private readonly Dictionary<string, BinarySymbolizer?> _cache = new(StringComparer.Ordinal);

    /// <summary>The symbolizer of <paramref name="path"/> (a path from /proc/PID/maps), or null.</summary>
    public BinarySymbolizer? For(int pid, string path)
    {
        if (!path.StartsWith('/'))
        {
            return null; // [vdso], [heap], anonymous
        }
        if (_cache.TryGetValue(path, out BinarySymbolizer? s))
        {
            return s;
        }
        s = null;
        foreach (string candidate in new[] { $"/proc/{pid}/root{path}", path })
        {
            try
            {
                if (File.Exists(candidate))
                {
                    s = new BinarySymbolizer(ElfFile.Load(candidate));
                    break;
                }
            }
            catch (MalformedDataException)
            {
                break;
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        _cache[path] = s;
        return s;
    }
}
