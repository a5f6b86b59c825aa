using System.Buffers.Binary;
using Kscope.Formats.Elf;

namespace Kscope.Formats.Tests.Elf;

public class EmbeddedBpfObjectsTests
{
    private const string TrueBinary = "/bin/true";

    /// <summary>A fake skeleton tool: /bin/true, a stray magic or two, the object, a trailer.</summary>
    private static (byte[] File, int At, byte[] Object) Container(string objectPath, int copies = 1)
    {
        byte[] obj = File.ReadAllBytes(objectPath);
        var bytes = new List<byte>(File.ReadAllBytes(TrueBinary));
        bytes.Add(0x7f);
        bytes.AddRange("ELF is a magic string in a message"u8.ToArray());
        bytes.AddRange(new byte[] { 0x7f, (byte)'E', (byte)'L', (byte)'F', 2, 1, 1, 0 }); // a 64-bit magic, too short and not BPF
        while (bytes.Count % 8 != 0)
        {
            bytes.Add(0);
        }
        int at = bytes.Count;
        for (int i = 0; i < copies; i++)
        {
            bytes.AddRange(obj);
            bytes.AddRange(new byte[24]);
        }
        bytes.AddRange("trailer"u8.ToArray());
        return (bytes.ToArray(), at, obj);
    }

    [Fact]
    public void Find_ObjectInsideExecutable_ExactOffsetAndLength()
    {
        (byte[] file, int at, byte[] obj) = Container(BpfTestObject.LittleEndianPath);
        EmbeddedBpfObject found = Assert.Single(EmbeddedBpfObjects.Find(file));
        Assert.Equal(at, found.Offset);
        Assert.Equal(obj.Length, found.Length); // clang writes the section header table last
        Assert.Equal(obj, found.Slice(file).ToArray());
        Assert.Equal(ElfMachine.Bpf, ElfFile.Parse(found.Slice(file)).Machine);
    }

    [Fact]
    public void Find_BigEndianObject_Found()
    {
        (byte[] file, int at, byte[] obj) = Container(BpfTestObject.BigEndianPath);
        EmbeddedBpfObject found = Assert.Single(EmbeddedBpfObjects.Find(file));
        Assert.Equal(at, found.Offset);
        Assert.Equal(obj.Length, found.Length);
    }

    [Fact]
    public void Find_TwoObjects_BothInOrder()
    {
        (byte[] file, int at, byte[] obj) = Container(BpfTestObject.LittleEndianPath, copies: 2);
        IReadOnlyList<EmbeddedBpfObject> found = EmbeddedBpfObjects.Find(file);
        Assert.Equal([at, at + obj.Length + 24], found.Select(o => o.Offset).ToArray());
    }

    [Fact]
    public void Find_PlainExecutableOrObjectItself_FindsNothing()
    {
        Assert.Empty(EmbeddedBpfObjects.Find(File.ReadAllBytes(TrueBinary)));
        Assert.Empty(EmbeddedBpfObjects.Find(File.ReadAllBytes(BpfTestObject.LittleEndianPath))); // offset 0 is the file itself
        Assert.Empty(EmbeddedBpfObjects.Find([]));
    }

    [Fact]
    public void Find_EveryTruncationOfTheObject_FindsOrThrowsTyped()
    {
        (byte[] file, int at, byte[] obj) = Container(BpfTestObject.LittleEndianPath);
        for (int length = at; length <= at + obj.Length + 2; length++)
        {
            try
            {
                IReadOnlyList<EmbeddedBpfObject> found = EmbeddedBpfObjects.Find(file.AsSpan(0, length));
                if (length < at + 20)
                {
                    Assert.Empty(found); // not even e_machine visible: just bytes
                }
                else
                {
                    Assert.True(length >= at + obj.Length, $"a {length - at}-byte prefix of the object was accepted");
                    Assert.Single(found);
                }
            }
            catch (MalformedDataException e)
            {
                Assert.InRange(length - at, 20, obj.Length - 1);
                Assert.Contains("embedded BPF object", e.Message);
            }
        }
    }

    [Fact]
    public void Find_MutatedHeadersAndSectionTable_FindOrThrowTyped()
    {
        (byte[] clean, int at, byte[] obj) = Container(BpfTestObject.LittleEndianPath);
        ulong shoff = BinaryPrimitives.ReadUInt64LittleEndian(obj.AsSpan(40));
        var rng = new Random(4711);
        for (int iteration = 0; iteration < 3000; iteration++)
        {
            byte[] data = (byte[])clean.Clone();
            int flips = rng.Next(1, 4);
            for (int f = 0; f < flips; f++)
            {
                int where = rng.Next(2) == 0 ? at + rng.Next(64) : at + (int)shoff + rng.Next(obj.Length - (int)shoff);
                data[where] = (byte)rng.Next(256);
            }
            try
            {
                foreach (EmbeddedBpfObject o in EmbeddedBpfObjects.Find(data))
                {
                    Assert.InRange(o.Offset + o.Length, 0, data.Length);
                }
            }
            catch (MalformedDataException)
            {
            }
        }
    }

    [Theory]
    [InlineData(40, 0xff, "past the end of the file")]          // e_shoff far out
    [InlineData(58, 0x20, "no usable section header table")]     // e_shentsize 32
    [InlineData(62, 0x7f, "e_shstrndx")]                          // e_shstrndx >= e_shnum
    [InlineData(52, 0x10, "e_ehsize")]
    public void Find_BrokenHeaderField_NamesIt(int field, byte value, string expected)
    {
        (byte[] file, int at, _) = Container(BpfTestObject.LittleEndianPath);
        file[at + field + (field == 40 ? 3 : 0)] = value;
        MalformedDataException e = Assert.Throws<MalformedDataException>(() => EmbeddedBpfObjects.Find(file));
        Assert.Contains(expected, e.Message);
        Assert.Contains($"0x{at:x}", e.Message);
    }

    [Fact]
    public void Find_SectionPastTheTable_Rejected()
    {
        (byte[] file, int at, byte[] obj) = Container(BpfTestObject.LittleEndianPath);
        int shoff = (int)BinaryPrimitives.ReadUInt64LittleEndian(obj.AsSpan(40));
        // section 1's sh_size (at +32 in its header) made huge
        BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(at + shoff + 64 + 32), 1UL << 40);
        MalformedDataException e = Assert.Throws<MalformedDataException>(() => EmbeddedBpfObjects.Find(file));
        Assert.Contains("section 1", e.Message);
        Assert.Equal(at + shoff + 64, e.Offset);
    }
}
