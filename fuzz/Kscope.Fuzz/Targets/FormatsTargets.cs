using System.Text;
using Kscope.Formats;
using Kscope.Formats.Btf;
using Kscope.Formats.Cgroups;
using Kscope.Formats.Compression;
using Kscope.Formats.Elf;
using Kscope.Formats.Go;
using Kscope.Formats.Pprof;
using Kscope.Formats.Procfs;

namespace Kscope.Fuzz;

/// <summary>Targets for the parsers in Kscope.Formats (pure bytes -> models). Also compiled into Kscope.Formats.Tests.</summary>
public static class FormatsTargets
{
    public const string Layer = "Formats";

    public static IEnumerable<FuzzTarget> All =>
    [
        new("btf", Layer, "raw BTF (.BTF section, /sys/kernel/btf/*): every type, name, size, layout, C declaration, and btf c", Btf),
        new("btf-ext", Layer, ".BTF.ext against its object's .BTF; input = u32 BTF length, the .BTF bytes, the .BTF.ext bytes", BtfExtension),
        new("elf", Layer, "ELF64 files: headers, sections, symbols, notes, build id, relocations, address mapping", Elf),
        new("bpf-embedded", Layer, "EmbeddedBpfObjects.Find over an executable (libbpf skeletons)", Embedded),
        new("pprof", Layer, "profile.proto, uncompressed", Pprof),
        new("pprof-gzip", Layer, "profile.proto, gzipped (the form /debug/pprof serves): gunzip bound and trailer checks", PprofGzip),
        new("go-pclntab", Layer, "Go 1.18+ pclntab (.gopclntab): functions, pc lookups", GoPcln),
        new("go-buildinfo", Layer, "Go build info: the .go.buildinfo blob (1.18+ inline and pre-1.18 pointer layouts) and ELF files holding it", GoBuild),
        new("goroutines", Layer, "goroutine dumps (debug=2, SIGQUIT, panics)", Goroutines),
        new("procfs", Layer, "procfs text: first byte selects status, stat, cgroup, maps, limits, mountinfo, cpuinfo, cmdline, environ", Procfs),
        new("cgroup", Layer, "cgroup text: first byte selects cpu.max, cpuset lists, flat-keyed files, pressure, limits and numbers", Cgroup),
        new("kconfig", Layer, "kernel .config, plain or gzipped (/proc/config.gz)", KernelConfiguration),
        new("http-response", Layer, "HTTP/1.1 responses as pprof reads them from a socket: status line, headers, Content-Length, chunked, to EOF", HttpResponseBytes),
    ];

    private static long HttpResponseBytes(ReadOnlySpan<byte> input) => Formats.Http.HttpResponse.Parse(input).Body.Length;

    private static string Text(ReadOnlySpan<byte> input) => Encoding.UTF8.GetString(input);

    private static long Btf(ReadOnlySpan<byte> input)
    {
        var btf = Formats.Btf.Btf.Parse(input.ToArray());
        ExerciseBtf(btf, input.Length);
        return input.Length;
    }

    /// <summary>Everything a command does with a BTF: names, kinds, resolution, sizes, layouts, declarations, the C writer.</summary>
    public static void ExerciseBtf(Btf btf, long inputLength)
    {
        int budget = 4096;
        foreach (int id in btf.OwnTypeIds)
        {
            if (budget-- == 0)
            {
                break;
            }
            BtfType t = btf.GetType(id);
            _ = btf.GetName(id);
            _ = btf.Resolve(id);
            _ = btf.SizeOf(id);
            _ = btf.AlignOf(id);
            _ = BtfDeclaration.TypeName(btf, id);
            if (t.Kind is BtfKind.Struct or BtfKind.Union)
            {
                _ = BtfLayout.Compute(btf, id);
                _ = btf.IsPacked(id);
            }
        }
        _ = btf.FindTypes("task_struct");
        using var sink = new BoundedSink(FuzzTarget.AllocationBound(inputLength));
        new BtfCWriter(btf).Write(sink, []);
    }

    private static long BtfExtension(ReadOnlySpan<byte> input)
    {
        var r = new SpanReader(input, "btf-ext fuzz input");
        int btfLength = (int)Math.Min(r.U32(), int.MaxValue);
        byte[] btfBytes = r.Take(btfLength).ToArray();
        byte[] extBytes = input[r.Position..].ToArray();
        var btf = Formats.Btf.Btf.Parse(btfBytes);
        BtfExt ext = BtfExt.Parse(extBytes, btf);
        long n = 0;
        foreach (var s in ext.FuncInfos) { n += s.Records.Count; }
        foreach (var s in ext.LineInfos) { foreach (BtfLineInfo l in s.Records) { n += l.Line.Length + l.FileName.Length; } }
        foreach (var s in ext.CoreRelocations) { foreach (BtfCoreRelocation c in s.Records) { n += c.AccessString.Length; } }
        return input.Length;
    }

    private static long Elf(ReadOnlySpan<byte> input)
    {
        ElfFile elf = ElfFile.Parse(input.ToArray());
        ExerciseElf(elf);
        return input.Length;
    }

    public static void ExerciseElf(ElfFile elf)
    {
        _ = elf.Symbols.Count;
        _ = elf.DynamicSymbols.Count;
        _ = elf.Notes.Count;
        _ = elf.BuildId;
        foreach (ElfSection rel in elf.RelocationSections)
        {
            _ = elf.GetRelocations(rel).Count;
        }
        foreach (ElfProgramHeader p in elf.ProgramHeaders)
        {
            if (elf.TryGetFileOffset(p.VirtualAddress, out ulong off))
            {
                _ = elf.TryGetVirtualAddress(off, out _);
            }
        }
        _ = elf.GetSection(".text");
    }

    private static long Embedded(ReadOnlySpan<byte> input)
    {
        foreach (EmbeddedBpfObject o in EmbeddedBpfObjects.Find(input))
        {
            _ = input.Slice((int)o.Offset, o.Length);
        }
        return input.Length;
    }

    private static long Pprof(ReadOnlySpan<byte> input)
    {
        Profile p = ProfileReader.ReadUncompressed(input);
        _ = p.Samples.Count;
        return input.Length;
    }

    private static long PprofGzip(ReadOnlySpan<byte> input)
    {
        byte[] raw = ProfileReader.Gunzip(input);
        _ = ProfileReader.ReadUncompressed(raw).Samples.Count;
        return raw.LongLength;
    }

    private static long GoPcln(ReadOnlySpan<byte> input)
    {
        GoPclnTable t = GoPclnTable.Parse(input.ToArray());
        // The first 128 functions (names, file and line tables, inline trees): every function is decoded by the
        // same code, and a whole runtime's 4000 per input would cut exec/s twentyfold.
        int budget = 128;
        foreach (GoFunction f in t.Functions())
        {
            if (budget-- == 0)
            {
                break;
            }
            _ = t.Lookup(f.Entry);
            _ = t.Lookup(f.Entry + ((f.End - f.Entry) / 2));
        }
        _ = t.FindFunction(t.TextStart);
        _ = t.Lookup(t.End);
        return input.Length;
    }

    private static long GoBuild(ReadOnlySpan<byte> input)
    {
        if (ElfFile.IsElf(input))
        {
            _ = GoBuildInfo.FromElf(ElfFile.Parse(input.ToArray()))?.ToGoVersionM();
            return input.Length;
        }
        // The blob alone; pre-1.18 pointers are file offsets of the input itself.
        byte[] whole = input.ToArray();
        _ = GoBuildInfo.Parse(whole, 0, (address, length) =>
            address <= (ulong)whole.Length && (ulong)length <= (ulong)whole.Length - address ? whole.AsMemory((int)address, length) : (ReadOnlyMemory<byte>?)null)?.ToGoVersionM();
        return input.Length;
    }

    private static long Goroutines(ReadOnlySpan<byte> input)
    {
        _ = GoroutineDump.Parse(Text(input)).Count;
        return input.Length;
    }

    private static long Procfs(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty)
        {
            return 0;
        }
        ReadOnlySpan<byte> body = input[1..];
        switch (input[0] % 10)
        {
            case 0: _ = ProcStatus.Parse(Text(body)); break;
            case 1: _ = ProcStat.Parse(Text(body)); break;
            case 2: _ = ProcCgroupEntry.Parse(Text(body)); break;
            case 3: _ = ProcMapsEntry.Parse(Text(body)); break;
            case 4: _ = ProcLimit.Parse(Text(body)); break;
            case 5: _ = MountInfoEntry.Parse(Text(body)); break;
            case 6: _ = CpuInfo.Flags(Text(body)); break;
            case 7: _ = NulSeparated.Split(body); break;
            case 8: _ = NulSeparated.Environment(body); break;
            default: _ = ProcSchedStat.Parse(Text(body)); break;
        }
        return input.Length;
    }

    private static long Cgroup(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty)
        {
            return 0;
        }
        string text = Text(input[1..]);
        switch (input[0] % 6)
        {
            case 0: _ = CpuMax.Parse(text); break;
            case 1: _ = CpuList.Parse(text); break;
            case 2: _ = FlatKeyed.Parse(text, "cpu.stat"); break;
            case 3: _ = Pressure.Parse(text); break;
            case 4: _ = CgroupValue.Limit(text, "memory.max"); break;
            default:
                int nl = text.IndexOf('\n');
                _ = CpuMax.FromV1(nl < 0 ? text : text[..nl], nl < 0 ? "" : text[(nl + 1)..]);
                break;
        }
        return input.Length;
    }

    private static long KernelConfiguration(ReadOnlySpan<byte> input)
    {
        KernelConfig c = KernelConfig.Read(input, "config");
        _ = c["BPF_SYSCALL"];
        // Gzipped: the parser's input is what the trailer says it inflates to (Gzip checks that it does).
        return Gzip.IsGzip(input) && input.Length >= 18 ? System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(input[^4..]) : input.Length;
    }
}
