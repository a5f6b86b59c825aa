namespace Kscope.Formats.Btf;

/// <summary>
/// The .BTF.ext section of an eBPF ELF object: per ELF section, func_info (which FUNC each function
/// is), line_info (source lines) and CO-RE relocation records. Names and strings resolve through
/// the object's .BTF.
/// </summary>
/// <remarks>
/// Wire layout (tools/lib/bpf/libbpf_internal.h, struct btf_ext_header): u16 magic 0xeB9F; u8 version;
/// u8 flags; u32 hdr_len; u32 func_info_off, func_info_len; u32 line_info_off, line_info_len;
/// [u32 core_relo_off, core_relo_len when hdr_len >= 32]; offsets relative to the end of the header.
/// Each info block: u32 record_size, then { u32 sec_name_off; u32 num_info; record[num_info] }…
/// Records longer than we know (newer toolchains) are read by their known prefix.
/// </remarks>
public sealed class BtfExt
{
    private BtfExt(IReadOnlyList<BtfExtSection<BtfFuncInfo>> funcInfos, IReadOnlyList<BtfExtSection<BtfLineInfo>> lineInfos,
        IReadOnlyList<BtfExtSection<BtfCoreRelocation>> coreRelocations, uint funcInfoRecordSize, uint lineInfoRecordSize)
    {
        FuncInfos = funcInfos;
        LineInfos = lineInfos;
        CoreRelocations = coreRelocations;
        FuncInfoRecordSize = funcInfoRecordSize;
        LineInfoRecordSize = lineInfoRecordSize;
    }

    public IReadOnlyList<BtfExtSection<BtfFuncInfo>> FuncInfos { get; }

    public IReadOnlyList<BtfExtSection<BtfLineInfo>> LineInfos { get; }

    public IReadOnlyList<BtfExtSection<BtfCoreRelocation>> CoreRelocations { get; }

    /// <summary>The record size in the file (the kernel's BPF_PROG_LOAD wants func_info_rec_size).</summary>
    public uint FuncInfoRecordSize { get; }

    public uint LineInfoRecordSize { get; }

    public static BtfExt Parse(ReadOnlyMemory<byte> data, Btf btf, long fileOffset = 0)
    {
        ReadOnlySpan<byte> span = data.Span;
        if (span.Length < 24)
        {
            throw new MalformedDataException("BTF.ext", fileOffset + span.Length, $"truncated: {span.Length} bytes, the header needs 24");
        }
        bool bigEndian = span[0] == 0xeb && span[1] == 0x9f;
        if (!bigEndian && !(span[0] == 0x9f && span[1] == 0xeb))
        {
            throw new MalformedDataException("BTF.ext", fileOffset, "bad magic (want 0xeb9f)");
        }
        var r = new SpanReader(span, "BTF.ext", bigEndian, fileOffset);
        r.U16();
        byte version = r.U8();
        if (version != 1)
        {
            throw r.Error(2, $"unsupported version {version}");
        }
        r.U8();
        uint hdrLen = r.U32();
        if (hdrLen < 24 || hdrLen > (uint)span.Length)
        {
            throw r.Error(4, $"header length {hdrLen} outside [24, {span.Length}]");
        }
        uint funcOff = r.U32(), funcLen = r.U32(), lineOff = r.U32(), lineLen = r.U32();
        uint coreOff = 0, coreLen = 0;
        if (hdrLen >= 32)
        {
            coreOff = r.U32();
            coreLen = r.U32();
        }
        SpanReader body = r.Slice((int)hdrLen, span.Length - (int)hdrLen);

        uint funcSize = 0, lineSize = 0;
        var funcs = ReadBlock(body, funcOff, funcLen, 8, btf, ref funcSize, (ref SpanReader e) => new BtfFuncInfo(e.U32(), CheckType(btf, e.U32(), ref e)));
        var lines = ReadBlock(body, lineOff, lineLen, 16, btf, ref lineSize, (ref SpanReader e) =>
        {
            uint insn = e.U32();
            long at = e.AbsoluteOffset;
            string file = btf.GetString(e.U32(), at);
            string line = btf.GetString(e.U32(), at + 4);
            uint lineCol = e.U32();
            return new BtfLineInfo(insn, file, line, lineCol >> BtfLineInfo.ColumnBits, lineCol & ((1u << BtfLineInfo.ColumnBits) - 1));
        });
        uint coreSize = 0;
        var cores = ReadBlock(body, coreOff, coreLen, 16, btf, ref coreSize, (ref SpanReader e) =>
        {
            uint insn = e.U32();
            int type = CheckType(btf, e.U32(), ref e);
            long at = e.AbsoluteOffset;
            string access = btf.GetString(e.U32(), at);
            uint kind = e.U32();
            if (kind > (uint)BtfCoreRelocationKind.TypeMatches)
            {
                throw e.Error(e.Position - 4, $"unknown CO-RE relocation kind {kind}");
            }
            return new BtfCoreRelocation(insn, type, access, (BtfCoreRelocationKind)kind);
        });
        return new BtfExt(funcs, lines, cores, funcSize, lineSize);
    }

    private delegate T RecordReader<T>(ref SpanReader reader);

    private static int CheckType(Btf btf, uint id, ref SpanReader e)
    {
        if (id >= (uint)btf.TypeCount)
        {
            throw e.Error(e.Position - 4, $"type id {id} beyond the last ({btf.TypeCount - 1})");
        }
        return (int)id;
    }

    private static List<BtfExtSection<T>> ReadBlock<T>(SpanReader body, uint offset, uint length, int minRecord, Btf btf, ref uint recordSize, RecordReader<T> read)
    {
        var sections = new List<BtfExtSection<T>>();
        if (length == 0)
        {
            return sections;
        }
        if ((ulong)offset + length > (ulong)body.Length)
        {
            throw body.Error(0, $"info block [{offset}, +{length}) outside the {body.Length}-byte data");
        }
        SpanReader r = body.Slice((int)offset, (int)length);
        recordSize = r.U32();
        if (recordSize < minRecord || recordSize > 1024)
        {
            throw r.Error(0, $"record size {recordSize} outside [{minRecord}, 1024]");
        }
        while (!r.End)
        {
            long at = r.AbsoluteOffset;
            string name = btf.GetString(r.U32(), at);
            uint count = r.U32();
            if ((ulong)count * recordSize > (ulong)r.Remaining)
            {
                throw r.Error($"section '{name}': {count} records of {recordSize} bytes overrun the block ({r.Remaining} bytes left)");
            }
            var records = new T[count];
            for (int i = 0; i < records.Length; i++)
            {
                SpanReader e = r.Sub((int)recordSize);
                records[i] = read(ref e);
            }
            sections.Add(new BtfExtSection<T>(name, records));
        }
        return sections;
    }
}
