using Kscope.Native;
using Kscope.Formats.Elf;
using Kscope.Formats.Go;

namespace Kscope.Diagnostics.Symbols;

/// <summary>
/// Symbolizes addresses of one ELF file (link-time addresses): Go binaries through their pclntab
/// (function, file:line, inlined frames; stripped binaries too), others through .symtab, else
/// .dynsym (nearest preceding function symbol within its size).
/// </summary>
public sealed class BinarySymbolizer
{
    private readonly GoPclnTable? _go;
    private readonly ElfSymbol[] _symbols;
    private readonly ulong[] _starts;

    public BinarySymbolizer(ElfFile elf)
    {
        Elf = elf;
        _go = GoPclnTable.FromElf(elf);
        IReadOnlyList<ElfSymbol> table = elf.Symbols.Count > 0 ? elf.Symbols : elf.DynamicSymbols;
        _symbols = table.Where(s => s.Type is ElfSymbolType.Func or ElfSymbolType.GnuIFunc && s.IsDefined && s.Value != 0)
            .OrderBy(s => s.Value).ToArray();
        _starts = _symbols.Select(s => s.Value).ToArray();
    }

    public ElfFile Elf { get; }

    public bool IsGo => _go is not null;

    public GoPclnTable? GoTable => _go;

    public static BinarySymbolizer Load(string path) => new(ElfFile.Parse(InputFile.ReadAllBytes(path)));

    /// <summary>Frames for <paramref name="address"/>, innermost first; empty when nothing covers it.</summary>
    public IReadOnlyList<SymbolizedFrame> Symbolize(ulong address)
    {
        if (_go is not null)
        {
            IReadOnlyList<GoFrame> frames = _go.Lookup(address);
            if (frames.Count > 0 && !(frames.Count == 1 && frames[0].Line < 0))
            {
                ulong entry = _go.FindFunction(address)?.Entry ?? address;
                return frames.Select(f => new SymbolizedFrame(address, f.Function, f.File, f.Line, f.Inlined ? 0 : address - entry, f.Inlined)).ToList();
            }
        }
        int i = Array.BinarySearch(_starts, address);
        if (i < 0)
        {
            i = ~i - 1;
        }
        // Several symbols can share an address; take the last one that covers it.
        while (i >= 0)
        {
            ElfSymbol s = _symbols[i];
            if (address >= s.Value && (address - s.Value < Math.Max(s.Size, 1)))
            {
                return [new SymbolizedFrame(address, s.Name, null, 0, address - s.Value, false)];
            }
            if (i > 0 && _symbols[i - 1].Value == s.Value)
            {
                i--;
                continue;
            }
            break;
        }
        return [];
    }
}
