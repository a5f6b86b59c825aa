using System.Buffers.Binary;
using System.Text;
using Kscope.Formats.Elf;

namespace Kscope.Formats.Go;

/// <summary>
/// The Go runtime's pc-line table (pclntab) of a Go 1.18+ binary: pc -> function, file:line and
/// the inlined frames, without symbols or DWARF, so it works on stripped binaries.
/// </summary>
/// <remarks>
/// Layout (src/runtime/symtab.go, cmd/link/internal/ld/pcln.go), pointer size P:
/// header: magic u32 (0xfffffff0 Go 1.18-1.19, 0xfffffff1 Go 1.20+), 2 zero bytes, minLC u8,
/// ptrSize u8, then P-sized: nfunc, nfiles, textStart, funcnameOffset, cuOffset, filetabOffset,
/// pctabOffset, pclnOffset (offsets from the header). At pclnOffset: nfunc+1 functab entries
/// {entryOff u32 (from textStart), funcOff u32 (from pclnOffset)}; the last one's entryOff is
/// the end of text. _func at pclnOffset+funcOff: entryOff u32, nameOff i32, args i32,
/// deferreturn u32, pcsp u32, pcfile u32, pcln u32, npcdata u32, cuOffset u32, [startLine i32
/// in 1.20+], funcID u8, flag u8, pad u8, nfuncdata u8, pcdata[npcdata] u32, funcdata[nfuncdata] u32
/// (offsets from moduledata.gofunc). pc-value tables: pairs of zig-zag value delta and pc delta
/// (times minLC) varints from value -1 at the entry, ended by a zero value delta.
/// File names: cutab[cuOffset + file index] is an offset into filetab. Inlining: pcdata[2] is
/// the inline tree index at a pc, funcdata[3] the tree: 1.18-1.19 entries of 20 bytes {parent
/// i16, funcID u8, pad, file i32, line i32, nameOff i32, parentPc i32}, 1.20+ of 16 bytes
/// {funcID u8, pad[3], nameOff i32, parentPc i32, startLine i32}.
/// </remarks>
public sealed class GoPclnTable
{
    private const string Format = "Go pclntab";
    public const uint Magic118 = 0xfffffff0;
    public const uint Magic120 = 0xfffffff1;
    private const int PcdataInlTreeIndex = 2;
    private const int FuncdataInlTree = 3;

    private readonly ReadOnlyMemory<byte> _table;
    private readonly Func<ulong, int, ReadOnlyMemory<byte>?> _readAt;
    private readonly ulong _goFunc;
    private readonly int _funcnameOffset, _cuOffset, _filetabOffset, _pctabOffset, _pclnOffset;
    private readonly int _minLC;
    private readonly Dictionary<int, string> _names = [];

    private GoPclnTable(ReadOnlyMemory<byte> table, Func<ulong, int, ReadOnlyMemory<byte>?> readAt, ulong goFunc)
    {
        _table = table;
        _readAt = readAt;
        _goFunc = goFunc;
        var r = new SpanReader(table.Span, Format);
        uint magic = r.U32();
        if (magic != Magic118 && magic != Magic120)
        {
            throw r.Error(0, magic is 0xfffffffa or 0xfffffffb ? "Go 1.16-1.17 pclntab (0xfffffffa) is not supported; Go 1.18+ is" : $"bad magic 0x{magic:x8}");
        }
        Magic = magic;
        if (r.U8() != 0 || r.U8() != 0)
        {
            throw r.Error(4, "header padding is not zero");
        }
        _minLC = r.U8();
        int ptrSize = r.U8();
        if (_minLC is not (1 or 2 or 4) || ptrSize is not (4 or 8))
        {
            throw r.Error(6, $"bad instruction quantum {_minLC} or pointer size {ptrSize}");
        }
        ulong Word(ref SpanReader rr) => ptrSize == 8 ? rr.U64() : rr.U32();
        ulong nfunc = Word(ref r);
        Word(ref r); // nfiles
        TextStart = Word(ref r);
        int Offset(ref SpanReader rr)
        {
            long at = rr.AbsoluteOffset;
            ulong v = Word(ref rr);
            return v < (ulong)table.Length ? (int)v : throw new MalformedDataException(Format, at, $"table offset {v} outside the {table.Length}-byte pclntab");
        }
        _funcnameOffset = Offset(ref r);
        _cuOffset = Offset(ref r);
        _filetabOffset = Offset(ref r);
        _pctabOffset = Offset(ref r);
        _pclnOffset = Offset(ref r);
        if (nfunc > (ulong)(table.Length - _pclnOffset) / 8)
        {
            throw r.Error(8, $"{nfunc} functions do not fit in the table");
        }
        FunctionCount = (int)nfunc;
        // The functab must be sorted for binary search; check the ends cheaply here, the rest as used.
        End = TextStart + FuncTab(FunctionCount).Entry;
    }

    /// <summary><see cref="Magic118"/> or <see cref="Magic120"/>.</summary>
    public uint Magic { get; }

    public string FormatVersion => Magic == Magic120 ? "go1.20+" : "go1.18-1.19";

    public ulong TextStart { get; }

    /// <summary>End of the functions' text.</summary>
    public ulong End { get; }

    public int FunctionCount { get; }

    /// <summary>Parses a pclntab from its bytes. <paramref name="readAt"/> reads (address, length) of the
    /// binary (for inline trees in go:func.*); <paramref name="goFunc"/> is moduledata.gofunc, 0 if unknown (no inlined frames then).</summary>
    public static GoPclnTable Parse(ReadOnlyMemory<byte> table, Func<ulong, int, ReadOnlyMemory<byte>?>? readAt = null, ulong goFunc = 0) =>
        new(table, readAt ?? ((_, _) => null), goFunc);

    /// <summary>
    /// Finds the pclntab of a Go ELF binary: the .gopclntab section, else (stripped or PIE builds
    /// that fold it into other sections) a scan of the read-only data sections for a valid header
    /// whose textStart is the .text address. Null when the file is not a Go 1.18+ binary.
    /// </summary>
    public static GoPclnTable? FromElf(ElfFile elf)
    {
        ReadOnlyMemory<byte>? ReadAt(ulong address, int length)
        {
            if (length < 0 || !elf.TryGetFileOffset(address, out ulong off) || off + (ulong)length > (ulong)elf.Data.Length)
            {
                return null;
            }
            return elf.Data.Slice((int)off, length);
        }

        ElfSection? text = elf.GetSection(".text");
        (ReadOnlyMemory<byte> Bytes, ulong Address)? found = null;
        if (elf.GetSection(".gopclntab") is { } section && section.Data.Length >= 8)
        {
            found = (section.Data, section.Address);
        }
        else
        {
            foreach (ElfSection s in elf.Sections)
            {
                if (s.Type == ElfSectionType.NoBits || !s.IsAllocated || s.IsExecutable || s.Data.Length < 64)
                {
                    continue;
                }
                ReadOnlySpan<byte> data = s.Data.Span;
                for (int i = 0; i + 64 <= data.Length; i += 4)
                {
                    uint magic = BinaryPrimitives.ReadUInt32LittleEndian(data[i..]);
                    if ((magic == Magic118 || magic == Magic120) &&
                        data[i + 4] == 0 && data[i + 5] == 0 && data[i + 6] is 1 or 2 or 4 && data[i + 7] == 8 &&
                        text is not null && BinaryPrimitives.ReadUInt64LittleEndian(data[(i + 24)..]) == text.Address)
                    {
                        found = (s.Data[i..], s.Address + (ulong)i);
                        break;
                    }
                }
                if (found is not null)
                {
                    break;
                }
            }
        }
        if (found is not { } f)
        {
            return null;
        }
        return new GoPclnTable(f.Bytes, ReadAt, FindGoFunc(elf, f.Address, f.Bytes.Span));
    }

    /// <summary>
    /// moduledata.gofunc, found by looking for moduledata (its first word points at the pclntab)
    /// in the writable data sections. 0 when not found (PIE binaries, whose pointers are relocated at load).
    /// </summary>
    private static ulong FindGoFunc(ElfFile elf, ulong pclntabAddress, ReadOnlySpan<byte> table)
    {
        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(table);
        int goFuncWord = magic == Magic120 ? 40 : 38;
        Span<byte> needle = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(needle, pclntabAddress);
        foreach (ElfSection s in elf.Sections)
        {
            if (s.Type == ElfSectionType.NoBits || !s.IsAllocated || s.IsExecutable || s.Name is ".gopclntab")
            {
                continue;
            }
            ReadOnlySpan<byte> data = s.Data.Span;
            int from = 0;
            while (true)
            {
                int i = data[from..].IndexOf(needle);
                if (i < 0)
                {
                    break;
                }
                i += from;
                from = i + 8;
                if ((i & 7) != 0 || i + (goFuncWord + 1) * 8 > data.Length)
                {
                    continue;
                }
                // Sanity: funcnametab.ptr (word 1) lies inside the pclntab.
                ulong nameTab = BinaryPrimitives.ReadUInt64LittleEndian(data[(i + 8)..]);
                if (nameTab < pclntabAddress || nameTab >= pclntabAddress + (ulong)table.Length)
                {
                    continue;
                }
                return BinaryPrimitives.ReadUInt64LittleEndian(data[(i + goFuncWord * 8)..]);
            }
        }
        return 0;
    }

    private (uint Entry, uint FuncOff) FuncTab(int i)
    {
        var r = new SpanReader(_table.Span, Format);
        r.Position = _pclnOffset + i * 8 <= _table.Length ? _pclnOffset + i * 8 : throw r.Error(_pclnOffset, "functab outside the table");
        return (r.U32(), r.U32());
    }

    /// <summary>All functions, in address order.</summary>
    public IEnumerable<GoFunction> Functions()
    {
        for (int i = 0; i < FunctionCount; i++)
        {
            var (entry, funcOff) = FuncTab(i);
            var (next, _) = FuncTab(i + 1);
            Func f = ReadFunc(funcOff);
            yield return new GoFunction(Name(f.NameOff), TextStart + entry, TextStart + next);
        }
    }

    /// <summary>The function containing <paramref name="pc"/>, or null.</summary>
    public GoFunction? FindFunction(ulong pc)
    {
        int i = Find(pc);
        if (i < 0)
        {
            return null;
        }
        var (entry, funcOff) = FuncTab(i);
        var (next, _) = FuncTab(i + 1);
        return new GoFunction(Name(ReadFunc(funcOff).NameOff), TextStart + entry, TextStart + next);
    }

    /// <summary>Frames at <paramref name="pc"/>, innermost (inlined callee) first; empty when pc is not Go code.</summary>
    public IReadOnlyList<GoFrame> Lookup(ulong pc)
    {
        int i = Find(pc);
        if (i < 0)
        {
            return [];
        }
        var (entryOff, funcOff) = FuncTab(i);
        Func f = ReadFunc(funcOff);
        ulong entry = TextStart + entryOff;
        var frames = new List<GoFrame>(2);
        int treeEntrySize = Magic == Magic120 ? 16 : 20;
        ulong at = pc;
        for (int depth = 0; depth < 256; depth++)
        {
            int index = -1;
            if (_goFunc != 0 && f.InlTreeIndexTable != 0 && f.InlTreeOff is uint off && off != uint.MaxValue)
            {
                index = PcValue(f.InlTreeIndexTable, entry, at);
            }
            if (index < 0)
            {
                break;
            }
            ReadOnlyMemory<byte>? raw = _readAt(_goFunc + f.InlTreeOff!.Value + (ulong)index * (ulong)treeEntrySize, treeEntrySize);
            if (raw is not { } entryBytes)
            {
                throw new MalformedDataException(Format, (long)(_goFunc + f.InlTreeOff!.Value), $"inline tree entry {index} of {Name(f.NameOff)} is outside the binary");
            }
            var r = new SpanReader(entryBytes.Span, Format);
            int nameOff, parentPc;
            if (Magic == Magic120)
            {
                r.Skip(4);
                nameOff = r.I32();
                parentPc = r.I32();
            }
            else
            {
                r.Skip(12);
                nameOff = r.I32();
                parentPc = r.I32();
            }
            frames.Add(new GoFrame(Name(nameOff), File(f, entry, at), PcValue(f.PcLn, entry, at), Inlined: true));
            at = entry + (ulong)(uint)parentPc;
        }
        frames.Add(new GoFrame(Name(f.NameOff), File(f, entry, at), PcValue(f.PcLn, entry, at), Inlined: false));
        return frames;
    }

    private int Find(ulong pc)
    {
        if (pc < TextStart || pc >= End)
        {
            return -1;
        }
        uint target = (uint)(pc - TextStart);
        int lo = 0, hi = FunctionCount - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (FuncTab(mid).Entry <= target)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }
        return hi;
    }

    private readonly record struct Func(int NameOff, uint PcFile, uint PcLn, uint CuOffset, uint InlTreeIndexTable, uint? InlTreeOff);

    private Func ReadFunc(uint funcOff)
    {
        var r = new SpanReader(_table.Span, Format);
        long at = (long)_pclnOffset + funcOff;
        if (at > _table.Length)
        {
            throw r.Error(_pclnOffset, $"_func offset {funcOff} outside the table");
        }
        r.Position = (int)at;
        r.U32(); // entryOff
        int nameOff = r.I32();
        r.I32(); // args
        r.U32(); // deferreturn
        r.U32(); // pcsp
        uint pcfile = r.U32();
        uint pcln = r.U32();
        uint npcdata = r.U32();
        uint cuOffset = r.U32();
        if (Magic == Magic120)
        {
            r.I32(); // startLine
        }
        r.U8(); // funcID
        r.U8(); // flag
        r.U8();
        int nfuncdata = r.U8();
        if (npcdata > 1024)
        {
            throw r.Error($"implausible npcdata {npcdata}");
        }
        uint inlIndex = 0;
        for (int k = 0; k < npcdata; k++)
        {
            uint v = r.U32();
            if (k == PcdataInlTreeIndex)
            {
                inlIndex = v;
            }
        }
        uint? inlTree = null;
        for (int k = 0; k < nfuncdata; k++)
        {
            uint v = r.U32();
            if (k == FuncdataInlTree)
            {
                inlTree = v;
            }
        }
        return new Func(nameOff, pcfile, pcln, cuOffset, inlIndex, inlTree);
    }

    private string Name(int nameOff)
    {
        if (_names.TryGetValue(nameOff, out string? s))
        {
            return s;
        }
        s = CString(_funcnameOffset + (long)nameOff);
        _names[nameOff] = s;
        return s;
    }

    private string File(Func f, ulong entry, ulong pc)
    {
        int fileIndex = PcValue(f.PcFile, entry, pc);
        if (fileIndex < 0)
        {
            return "?";
        }
        var r = new SpanReader(_table.Span, Format);
        long at = _cuOffset + ((long)f.CuOffset + fileIndex) * 4;
        if (at + 4 > _table.Length)
        {
            throw r.Error(_cuOffset, $"file index {fileIndex} outside the cu table");
        }
        r.Position = (int)at;
        uint fileOff = r.U32();
        return fileOff == uint.MaxValue ? "?" : CString(_filetabOffset + (long)fileOff);
    }

    private string CString(long offset)
    {
        var r = new SpanReader(_table.Span, Format);
        if (offset < 0 || offset >= _table.Length)
        {
            throw r.Error(Math.Max(0, Math.Min(offset, _table.Length)), $"string offset {offset} outside the table");
        }
        return r.CString((int)offset);
    }

    /// <summary>The value of pc-value table <paramref name="tableOff"/> at <paramref name="pc"/> (-1 if none).</summary>
    private int PcValue(uint tableOff, ulong entry, ulong pc)
    {
        if (tableOff == 0)
        {
            return -1;
        }
        var r = new SpanReader(_table.Span, Format);
        long start = _pctabOffset + (long)tableOff;
        if (start >= _table.Length)
        {
            throw r.Error(_pctabOffset, $"pc-value table offset {tableOff} outside the table");
        }
        r.Position = (int)start;
        int value = -1;
        ulong cur = entry;
        bool first = true;
        for (int steps = 0; steps < 1_000_000; steps++)
        {
            ulong uvdelta = r.ULeb128();
            if (uvdelta == 0 && !first)
            {
                return -1;
            }
            first = false;
            int vdelta = (uvdelta & 1) != 0 ? ~(int)(uvdelta >> 1) : (int)(uvdelta >> 1);
            ulong pcdelta = r.ULeb128() * (ulong)_minLC;
            value += vdelta;
            cur += pcdelta;
            if (pc < cur)
            {
                return value;
            }
        }
        throw r.Error("pc-value table does not end");
    }
}
