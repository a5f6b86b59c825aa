using Kscope.Native;
using System.Globalization;
using Kscope.Formats;

namespace Kscope.Diagnostics.Symbols;

/// <summary>
/// Kernel addresses to "function+0xoff [module]" from /proc/kallsyms (text symbols, sorted once).
/// The one kallsyms reader: trace gadgets' stacks and the CPU profiler both use it.
/// </summary>
public sealed class KernelSymbols
{
    private readonly ulong[] _addresses;
    private readonly string[] _names;

    private KernelSymbols(ulong[] addresses, string[] names) => (_addresses, _names) = (addresses, names);

    public int Count => _addresses.Length;

    /// <summary>Reads /proc/kallsyms; all addresses are zero without CAP_SYSLOG (kptr_restrict), then nothing resolves.</summary>
    public static KernelSymbols Load(string path = "/proc/kallsyms") => Parse(InputFile.ReadAllText(path, MaxBytes), path);

    /// <summary>/proc/kallsyms of a big distribution kernel with modules is about 20 MB.</summary>
    private const long MaxBytes = 256 << 20;

    /// <summary>Like <see cref="Load"/>, but an unreadable file gives an empty table (nothing resolves).</summary>
    public static KernelSymbols LoadOrEmpty(string path = "/proc/kallsyms")
    {
        try
        {
            return Load(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Parse("", path);
        }
    }

    /// <summary>Parses kallsyms lines "ffffffff81000000 T _stext [module]"; text symbols (t/T/w/W) only.</summary>
    public static KernelSymbols Parse(string text, string source = "/proc/kallsyms")
    {
        var entries = new List<(ulong Address, string Name)>();
        int lineNumber = 0;
        foreach (string raw in text.Split('\n'))
        {
            lineNumber++;
            if (raw.Length == 0)
            {
                continue;
            }
            string[] parts = raw.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 3 || parts[1].Length != 1 || !ulong.TryParse(parts[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong address))
            {
                throw new MalformedDataException("kallsyms", source, lineNumber, $"want 'ADDRESS TYPE NAME [module]', got '{raw}'");
            }
            if (address != 0 && parts[1] is "t" or "T" or "w" or "W")
            {
                entries.Add((address, parts.Length > 3 ? $"{parts[2]} {parts[3]}" : parts[2]));
            }
        }
        entries.Sort((a, b) => a.Address.CompareTo(b.Address));
        return new KernelSymbols(entries.Select(e => e.Address).ToArray(), entries.Select(e => e.Name).ToArray());
    }

    /// <summary>The covering symbol as "name" or "name [module]"; null when nothing covers the address.</summary>
    public string? Lookup(ulong address)
    {
        int i = Index(address);
        return i >= 0 ? _names[i] : null;
    }

    /// <summary>"vfs_read+0x1a" (or "name+0x1a [module]"); "0xADDRESS" when nothing covers it.</summary>
    public string Resolve(ulong address) => Resolve(address, returnAddress: false);

    /// <summary>
    /// Like <see cref="Resolve(ulong)"/>; a <paramref name="returnAddress"/> (a caller frame) is looked up
    /// one byte earlier, as <see cref="AddressResolver.LookupAddress"/> decides, and its offset counts from the address itself.
    /// </summary>
    public string Resolve(ulong address, bool returnAddress)
    {
        int i = Index(AddressResolver.LookupAddress(address, returnAddress));
        if (i < 0)
        {
            return $"0x{address:x}";
        }
        string name = _names[i];
        int space = name.IndexOf(' ', StringComparison.Ordinal);
        ulong offset = address - _addresses[i];
        return space < 0 ? $"{name}+0x{offset:x}" : $"{name[..space]}+0x{offset:x} {name[(space + 1)..]}";
    }

    private int Index(ulong address)
    {
        int i = Array.BinarySearch(_addresses, address);
        return i >= 0 ? i : ~i - 1;
    }
}
