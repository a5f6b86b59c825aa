using System.Buffers.Binary;
using Kscope.Formats;
using Kscope.Formats.Elf;
using Kscope.Formats.Go;

namespace Kscope.Cli.Tests.Go;

/// <summary>
/// GoBuildInfo beyond prefixes (issue 13): the pre-1.18 pointer layout (version and module info reached through
/// Go string headers), <see cref="GoBuildInfo.FromElf"/> on an ELF without section headers (the writable PT_LOAD
/// scan), pointers outside the file, wrapping segment bounds. The strings are the real ones of the test's Go program.
/// </summary>
public sealed class GoBuildInfoHostileTests
{
    private const ulong Base = 0x400000;

    /// <summary>The Go program's version and module text, as the 1.18+ inline layout holds them.</summary>
    private static (byte[] Version, byte[] Module) RealStrings()
    {
        ElfFile elf = ElfFile.Parse(File.ReadAllBytes(GoProgram.Exe));
        byte[] blob = elf.GetSection(".go.buildinfo")!.Data.ToArray();
        var r = new SpanReader(blob, "test");
        r.Position = 32;
        byte[] version = r.Take((int)r.ULeb128()).ToArray();
        byte[] module = r.Take((int)r.ULeb128()).ToArray();
        return (version, module);
    }

    /// <summary>Go 1.13-1.17's layout: pointers at 16 and 24 to {ptr, len} headers; addresses are Base + offset.</summary>
    private static byte[] PointerBlob(byte[] version, byte[] module)
    {
        int headers = 32, versionAt = 64, moduleAt = versionAt + version.Length;
        byte[] b = new byte[moduleAt + module.Length];
        b[0] = 0xff;
        " Go buildinf:"u8.CopyTo(b.AsSpan(1));
        b[14] = 8;
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(16), Base + (ulong)headers);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(24), Base + (ulong)headers + 16);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(32), Base + (ulong)versionAt);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(40), (ulong)version.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(48), Base + (ulong)moduleAt);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(56), (ulong)module.Length);
        version.CopyTo(b, versionAt);
        module.CopyTo(b, moduleAt);
        return b;
    }

    /// <summary>An ELF64 with no section headers and one writable PT_LOAD at Base holding <paramref name="segment"/>.</summary>
    private static byte[] SegmentElf(byte[] segment, ulong offset = 0x1000, ulong? fileSize = null)
    {
        byte[] elf = new byte[0x1000 + segment.Length];
        Span<byte> h = elf;
        "\x7f"u8.CopyTo(h);
        "ELF"u8.CopyTo(h[1..]);
        h[4] = 2; h[5] = 1; h[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(h[16..], 2);
        BinaryPrimitives.WriteUInt16LittleEndian(h[18..], 62);
        BinaryPrimitives.WriteUInt32LittleEndian(h[20..], 1);
        BinaryPrimitives.WriteUInt64LittleEndian(h[32..], 64);
        BinaryPrimitives.WriteUInt16LittleEndian(h[52..], 64);
        BinaryPrimitives.WriteUInt16LittleEndian(h[54..], 56);
        BinaryPrimitives.WriteUInt16LittleEndian(h[56..], 1);
        Span<byte> p = h[64..];
        BinaryPrimitives.WriteUInt32LittleEndian(p, 1);
        BinaryPrimitives.WriteUInt32LittleEndian(p[4..], 6);
        BinaryPrimitives.WriteUInt64LittleEndian(p[8..], offset);
        BinaryPrimitives.WriteUInt64LittleEndian(p[16..], Base);
        BinaryPrimitives.WriteUInt64LittleEndian(p[24..], Base);
        BinaryPrimitives.WriteUInt64LittleEndian(p[32..], fileSize ?? (ulong)segment.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(p[40..], fileSize ?? (ulong)segment.Length);
        segment.CopyTo(elf, 0x1000);
        return elf;
    }

    private static GoBuildInfo? FromElfOrTyped(byte[] elf)
    {
        try
        {
            return GoBuildInfo.FromElf(ElfFile.Parse(elf));
        }
        catch (MalformedDataException)
        {
            return null;
        }
    }

    [Fact]
    public void FromElf_Pre118PointerLayoutInWritableSegment_ReadsWhatGoVersionMReads()
    {
        var (version, module) = RealStrings();
        GoBuildInfo info = GoBuildInfo.FromElf(ElfFile.Parse(SegmentElf(PointerBlob(version, module))))!;
        ElfFile real = ElfFile.Parse(File.ReadAllBytes(GoProgram.Exe));
        GoBuildInfo expected = GoBuildInfo.FromElf(real)!;
        Assert.Equal(expected.GoVersion, info.GoVersion);
        Assert.Equal(expected.ToGoVersionM(), info.ToGoVersionM());
    }

    [Theory]
    [InlineData(16)]   // the version's header pointer
    [InlineData(24)]   // the module's header pointer
    [InlineData(32)]   // the version string pointer
    [InlineData(48)]   // the module string pointer
    public void FromElf_Pre118PointerOutsideTheFile_ThrowsTyped(int field)
    {
        var (version, module) = RealStrings();
        byte[] blob = PointerBlob(version, module);
        foreach (ulong bad in new ulong[] { 0UL, Base - 1, Base + (ulong)blob.Length, 0xdeadbeef00, ulong.MaxValue - 7 })
        {
            byte[] m = (byte[])blob.Clone();
            BinaryPrimitives.WriteUInt64LittleEndian(m.AsSpan(field), bad);
            var e = Assert.Throws<MalformedDataException>(() => GoBuildInfo.FromElf(ElfFile.Parse(SegmentElf(m))));
            Assert.Contains("outside the file", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void FromElf_Pre118StringLengthPastTheSegment_ThrowsTyped()
    {
        var (version, module) = RealStrings();
        byte[] blob = PointerBlob(version, module);
        foreach (ulong length in new[] { (ulong)blob.Length, 1UL << 24, (1UL << 24) + 1, 1UL << 40, ulong.MaxValue })
        {
            byte[] m = (byte[])blob.Clone();
            BinaryPrimitives.WriteUInt64LittleEndian(m.AsSpan(56), length);
            Assert.Throws<MalformedDataException>(() => GoBuildInfo.FromElf(ElfFile.Parse(SegmentElf(m))));
        }
    }

    [Fact]
    public void FromElf_SegmentOffsetPlusSizeWraps_ThrowsTypedOrFindsNothing()
    {
        var (version, module) = RealStrings();
        byte[] blob = PointerBlob(version, module);
        foreach (ulong offset in new[] { ulong.MaxValue - 0xfff, ulong.MaxValue, 1UL << 63 })
        {
            Assert.Null(FromElfOrTyped(SegmentElf(blob, offset, 0x2000)));
        }
        // A segment past the end of the file (as separate debug info keeps it) is skipped, not sliced.
        Assert.Null(FromElfOrTyped(SegmentElf(blob, 0x1000, 1UL << 40)));
    }

    [Fact]
    public void FromElf_Pre118EveryPrefixAndByteFlip_ParseOrThrowTyped()
    {
        var (version, module) = RealStrings();
        byte[] elf = SegmentElf(PointerBlob(version, module));
        for (int n = 0; n <= elf.Length; n += n < 0x1100 ? 1 : 7)
        {
            FromElfOrTyped(elf[..n]);
        }
        for (int i = 0x1000; i < 0x1000 + 64; i++)
        {
            byte[] m = (byte[])elf.Clone();
            m[i] ^= 0xff;
            FromElfOrTyped(m);
        }
    }
}
