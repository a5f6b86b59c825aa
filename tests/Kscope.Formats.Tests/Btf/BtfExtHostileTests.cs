using System.Buffers.Binary;
using Kscope.Formats.Btf;
using Kscope.Formats.Elf;
using BtfFile = Kscope.Formats.Btf.Btf;

namespace Kscope.Formats.Tests.Btf;

/// <summary>
/// .BTF.ext from a real clang object (BpfTestObject: func_info, line_info and CO-RE records) under hostile edits:
/// every prefix, every header field at the extremes, record sizes and counts, string and type references.
/// Each parses or throws <see cref="MalformedDataException"/> (issue 13: BTF.ext had no hostile test).
/// </summary>
public sealed class BtfExtHostileTests
{
    private static (BtfFile Btf, byte[] Ext) Real()
    {
        ElfFile elf = ElfFile.Parse(File.ReadAllBytes(BpfTestObject.LittleEndianPath));
        return (BtfFile.FromElf(elf), elf.GetSection(".BTF.ext")!.Data.ToArray());
    }

    private static void ParseOrThrowTyped(BtfFile btf, byte[] ext)
    {
        try
        {
            BtfExt parsed = BtfExt.Parse(ext, btf);
            _ = parsed.FuncInfos.Sum(s => s.Records.Count) + parsed.LineInfos.Sum(s => s.Records.Count) + parsed.CoreRelocations.Sum(s => s.Records.Count);
        }
        catch (MalformedDataException)
        {
        }
    }

    [Fact]
    public void Parse_RealObject_HasAllThreeRecordKinds()
    {
        var (btf, ext) = Real();
        BtfExt parsed = BtfExt.Parse(ext, btf);
        Assert.NotEmpty(parsed.FuncInfos);
        Assert.NotEmpty(parsed.LineInfos);
        Assert.NotEmpty(parsed.CoreRelocations);
    }

    [Fact]
    public void Parse_EveryPrefix_ParsesOrThrowsTyped()
    {
        var (btf, ext) = Real();
        for (int n = 0; n <= ext.Length; n++)
        {
            ParseOrThrowTyped(btf, ext[..n]);
        }
    }

    [Fact]
    public void Parse_HeaderFieldsAtExtremes_ThrowTypedOrParse()
    {
        var (btf, ext) = Real();
        uint hdrLen = BinaryPrimitives.ReadUInt32LittleEndian(ext.AsSpan(4));
        uint[] values = [0, 1, 3, 4, 7, 8, 24, 32, (uint)ext.Length - 1, (uint)ext.Length, (uint)ext.Length + 1, 0x7fffffff, 0x80000000, 0xfffffff8, 0xffffffff];
        int hostile = 0;
        for (int field = 4; field + 4 <= hdrLen; field += 4)
        {
            foreach (uint v in values)
            {
                byte[] m = (byte[])ext.Clone();
                BinaryPrimitives.WriteUInt32LittleEndian(m.AsSpan(field), v);
                ParseOrThrowTyped(btf, m);
                hostile++;
            }
        }
        Assert.True(hostile >= 7 * values.Length, $"only {hostile} header edits: is hdr_len {hdrLen} right?");
    }

    [Fact]
    public void Parse_RecordSizesCountsAndReferencesAtExtremes_ThrowTypedOrParse()
    {
        var (btf, ext) = Real();
        uint hdrLen = BinaryPrimitives.ReadUInt32LittleEndian(ext.AsSpan(4));
        uint[] values = [0, 1, 4, 7, 8, 12, 15, 16, 0xffff, 0x7fffffff, 0xffffffff];
        // Each block starts with u32 rec_size, then per section {u32 sec_name_off, u32 num_info, records}.
        for (int block = 0; block < 3; block++)
        {
            int offField = 8 + (block * 8);
            if (offField + 8 > hdrLen)
            {
                break;
            }
            int start = (int)(hdrLen + BinaryPrimitives.ReadUInt32LittleEndian(ext.AsSpan(offField)));
            for (int word = 0; word < 8 && start + (word * 4) + 4 <= ext.Length; word++)
            {
                foreach (uint v in values)
                {
                    byte[] m = (byte[])ext.Clone();
                    BinaryPrimitives.WriteUInt32LittleEndian(m.AsSpan(start + (word * 4)), v);
                    ParseOrThrowTyped(btf, m);
                }
            }
        }
    }

    [Fact]
    public void Parse_EveryByteFlipped_ParsesOrThrowsTyped()
    {
        var (btf, ext) = Real();
        for (int i = 0; i < ext.Length; i++)
        {
            byte[] m = (byte[])ext.Clone();
            m[i] ^= 0xff;
            ParseOrThrowTyped(btf, m);
        }
    }

    [Fact]
    public void Parse_AgainstAnotherObjectsBtf_ThrowsTypedOrParses()
    {
        // Type ids and string offsets that point into the wrong BTF: a mismatched pair from a crafted object.
        var (_, ext) = Real();
        ElfFile other = ElfFile.Parse(File.ReadAllBytes(BpfTestObject.BigEndianPath));
        BtfFile wrong = BtfFile.FromElf(other);
        ParseOrThrowTyped(wrong, ext);
    }
}
