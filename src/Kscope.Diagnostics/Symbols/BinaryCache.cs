using Kscope.Formats;
using Kscope.Formats.Elf;
using Kscope.Native;

namespace Kscope.Diagnostics.Symbols;

/// <summary>
/// Loaded binaries shared by every process that maps them: keyed by file identity (inode, size,
/// mtime) and by GNU build id, so two processes of one binary — also in different containers, where
/// the paths differ (/proc/PID/root/…) — parse it once. Files are opened through /proc/PID/root first
/// (containers), then by the path itself (the process may have exited). Unreadable or non-ELF files
/// are remembered as null. Shared by the CPU profiler and trace stacks through <see cref="AddressResolver"/>.
/// </summary>
public sealed class BinaryCache
{
    private readonly Dictionary<(ulong Inode, long Size, long MTime), BinarySymbolizer?> _byFile = [];
    private readonly Dictionary<string, BinarySymbolizer> _byBuildId = new(StringComparer.Ordinal);
    private readonly Dictionary<(int Pid, string Path), BinarySymbolizer?> _byPath = [];

    /// <summary>Binaries parsed (not cache hits): for tests and statistics.</summary>
    public int Loaded { get; private set; }

    /// <summary>The symbolizer of <paramref name="path"/> (a path from /proc/PID/maps or an MMAP2 record) as mapped by <paramref name="pid"/>, or null ([vdso], anonymous, not ELF, gone).</summary>
    public BinarySymbolizer? Get(int pid, string path)
    {
        if (!path.StartsWith('/'))
        {
            return null;
        }
        if (_byPath.TryGetValue((pid, path), out BinarySymbolizer? known))
        {
            return known;
        }
        BinarySymbolizer? result = null;
        foreach (string candidate in new[] { $"/proc/{pid}/root{path}", path })
        {
            if (TryLoad(candidate, out result))
            {
                break;
            }
        }
        _byPath[(pid, path)] = result;
        return result;
    }

    /// <summary>False when the file cannot be opened (try the next candidate); true with null for a file that is not a usable ELF.</summary>
    private bool TryLoad(string file, out BinarySymbolizer? symbolizer)
    {
        symbolizer = null;
        (ulong, long, long) identity;
        try
        {
            var info = new FileInfo(file);
            if (!info.Exists)
            {
                return false;
            }
            identity = (FileIds.Inode(file), info.Length, info.LastWriteTimeUtc.Ticks);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or KernelException)
        {
            return false;
        }
        if (_byFile.TryGetValue(identity, out symbolizer))
        {
            return true;
        }
        try
        {
            ElfFile elf = ElfFile.Parse(InputFile.ReadAllBytes(file));
            if (elf.BuildId is { Length: > 0 } id && _byBuildId.TryGetValue(id, out BinarySymbolizer? same))
            {
                symbolizer = same;
            }
            else
            {
                symbolizer = new BinarySymbolizer(elf);
                Loaded++;
                if (elf.BuildId is { Length: > 0 } newId)
                {
                    _byBuildId[newId] = symbolizer;
                }
            }
        }
        catch (MalformedDataException)
        {
            symbolizer = null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
        _byFile[identity] = symbolizer;
        return true;
    }
}
