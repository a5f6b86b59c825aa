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

    /// <summary>
    /// Parses kallsyms lines "ffffffff81000000 T _stext [module]"; text symbols (t/T/w/W) only. One pass over
    /// spans: a string is made only for a kept symbol's name (a 6.18 kernel has 122,000 lines, most of them kept),
    /// and the sort runs only when the lines are out of order (bpf and module symbols can be).
    /// </summary>
    public static KernelSymbols Parse(string text, string source = "/proc/kallsyms")
    {
        var addresses = new List<ulong>(text.Length / 48);
        var names = new List<string>(text.Length / 48);
        ReadOnlySpan<char> rest = text;
        int lineNumber = 0;
        bool sorted = true;
        while (!rest.IsEmpty)
        {
            int newline = rest.IndexOf('\n');
            ReadOnlySpan<char> line = newline < 0 ? rest : rest[..newline];
            rest = newline < 0 ? default : rest[(newline + 1)..];
            lineNumber++;
            if (line.IsEmpty)
            {
                continue;
            }
            ReadOnlySpan<char> cursor = line;
            ReadOnlySpan<char> addressText = NextField(ref cursor), type = NextField(ref cursor), name = NextField(ref cursor), module = NextField(ref cursor);
            if (name.IsEmpty || type.Length != 1 || !ulong.TryParse(addressText, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong address))
            {
                throw new MalformedDataException("kallsyms", source, lineNumber, $"want 'ADDRESS TYPE NAME [module]', got '{line}'");
            }
            if (address != 0 && type[0] is 't' or 'T' or 'w' or 'W')
            {
                sorted &= addresses.Count == 0 || addresses[^1] <= address;
                addresses.Add(address);
                names.Add(module.IsEmpty ? name.ToString() : string.Concat(name, " ", module));
            }
        }
        ulong[] keys = [.. addresses];
        string[] values = [.. names];
        if (!sorted)
        {
            // by address, then by line: the same order whatever the sort's stability
            int[] order = new int[keys.Length];
            for (int i = 0; i < order.Length; i++)
            {
                order[i] = i;
            }
            Array.Sort(order, (x, y) => keys[x] != keys[y] ? keys[x].CompareTo(keys[y]) : x.CompareTo(y));
            keys = [.. order.Select(i => addresses[i])];
            values = [.. order.Select(i => names[i])];
        }
        return new KernelSymbols(keys, values);
    }

    /// <summary>The next field separated by spaces or tabs (empty at the end of the line).</summary>
    private static ReadOnlySpan<char> NextField(ref ReadOnlySpan<char> cursor)
    {
        cursor = cursor.TrimStart(" \t");
        int end = cursor.IndexOfAny(' ', '\t');
        ReadOnlySpan<char> field = end < 0 ? cursor : cursor[..end];
        cursor = end < 0 ? default : cursor[end..];
        return field;
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
