using Kscope.Kernel.Bpf;
using Kscope.Kernel.Bpf.Loader;
using Kscope.Native;

namespace Kscope.Kernel.Tests.Bpf;

public class LoaderTests
{
    [Fact]
    public void Hello_Spec_HasMapsGlobalsSubprogramAndCoRe()
    {
        Requires.Tool("clang", "clang");
        CollectionSpec spec = CollectionSpec.LoadObject(BpfObjects.Example("hello"));
        Assert.Equal("GPL", spec.License);
        Assert.Equal(MapType.RingBuf, spec.Maps["events"].Type);
        Assert.Equal(MapType.Hash, spec.Maps["opens_by_tgid"].Type);
        Assert.Equal(4u, spec.Maps["opens_by_tgid"].KeySize);
        Assert.Equal(8u, spec.Maps["opens_by_tgid"].ValueSize);
        Assert.Equal(1024u, spec.Maps["opens_by_tgid"].MaxEntries);
        Assert.Contains(spec.Maps.Values, m => m.Section == ".rodata" && m.Freeze);
        Assert.Contains(spec.Maps.Values, m => m.Section == ".bss");
        Assert.Equal(new[] { "sequence", "target_tgid", "total_opens", "unused_event" }, spec.Variables.Keys.Order());
        ProgramSpec p = Assert.Single(spec.Programs.Values);
        Assert.Equal("count_openat", p.Name);
        Assert.Equal(ProgramType.Tracepoint, p.Type);
        Assert.Equal("syscalls/sys_enter_openat", p.AttachTo);
        Assert.Contains(p.Instructions, i => i.IsFunctionCall && i.Reference == "parent_tgid");
        Assert.Contains(p.Instructions, i => i.Symbol == "parent_tgid");
        Assert.NotNull(p.CoreRelocations);
        Assert.True(p.CoreRelocations!.Count >= 3);
        Assert.NotNull(p.LineInfos);
    }

    [Fact]
    public void Hello_LoadAttachRun_RecordsAndMapsAreRight()
    {
        Requires.Root();
        CollectionSpec spec = CollectionSpec.LoadObject(BpfObjects.Example("hello"));
        spec.SetVariable("target_tgid", (uint)Environment.ProcessId);
        using Collection c = Collection.Load(spec);
        Assert.Null(c.BtfError);
        using var reader = new RingBufReader(c.Maps["events"]);
        c.AttachAll();
        for (int i = 0; i < 10; i++)
        {
            File.ReadAllBytes("/proc/self/status");
        }
        foreach (Link l in c.Links)
        {
            l.Dispose();
        }
        var records = new List<(uint Pid, uint Tgid, uint Ppid, uint Seq)>();
        reader.Read((_, data) => records.Add((BitConverter.ToUInt32(data), BitConverter.ToUInt32(data[4..]), BitConverter.ToUInt32(data[8..]), BitConverter.ToUInt32(data[12..]))));
        Assert.True(records.Count >= 10, $"{records.Count} records");
        Assert.All(records, r => Assert.Equal((uint)Environment.ProcessId, r.Tgid)); // CO-RE task->tgid + .rodata filter
        int parent = int.Parse(File.ReadAllText("/proc/self/stat").Split(' ')[3]);
        Assert.All(records, r => Assert.Equal((uint)parent, r.Ppid)); // subprogram, CO-RE through real_parent
        Assert.Equal(records.Select(r => r.Seq).Order(), records.Select(r => r.Seq)); // .data counter
        ulong count = c.Maps["opens_by_tgid"].Lookup<uint, ulong>((uint)Environment.ProcessId) ?? 0;
        Assert.True(count >= (ulong)records.Count);
        Map bss = c.Maps.Values.Single(m => m.Spec?.Section == ".bss");
        var bssValue = new byte[bss.ValueSize];
        Assert.True(bss.Lookup(new byte[4], bssValue));
        Assert.Equal(count, BitConverter.ToUInt64(bssValue, (int)spec.Variables["total_opens"].Offset));
    }

    [Fact]
    public void MissingField_CoRe_NamesStructAndField()
    {
        Requires.Root();
        CollectionSpec spec = CollectionSpec.LoadObject(BpfObjects.Test("bad_field"));
        var e = Assert.Throws<CoreRelocationException>(() => Collection.Load(spec));
        Assert.Contains("struct task_struct has no field 'kscope_no_such_field'", e.Message);
        Assert.Contains("read_missing", e.Message);
    }

    [Fact]
    public void Rejected_Program_ShowsVerifierLogAndSourceLine()
    {
        Requires.Root();
        CollectionSpec spec = CollectionSpec.LoadObject(BpfObjects.Test("rejected"));
        var e = Assert.Throws<VerifierException>(() => Collection.Load(spec));
        Assert.Contains("invalid access to map value", e.Message);
        Assert.NotNull(e.SourceLine);
        Assert.Contains("v[64]", e.SourceLine);
        Assert.Contains("rejected.bpf.c:", e.Message);
    }

    [Fact]
    public void Multi_SharedMapsAndSubprogram_AllProgramsCount()
    {
        Requires.Root();
        CollectionSpec spec = CollectionSpec.LoadObject(BpfObjects.Test("multi"));
        Assert.Equal(4, spec.Programs.Count);
        using Collection c = Collection.Load(spec);
        c.AttachAll(p => p.LinkKind is not null);
        for (int i = 0; i < 5; i++)
        {
            Posix.GetPid();
        }
        foreach (Link l in c.Links)
        {
            l.Dispose();
        }
        c.Programs["sock"].TestRun(new byte[64]);
        Map hits = c.Maps["hits"];
        Assert.True(hits.Lookup<uint, ulong>(0) >= 5);
        Assert.True(hits.Lookup<uint, ulong>(1) >= 5);
        Assert.True(hits.Lookup<uint, ulong>(2) >= 5);
        Assert.Equal(1UL, hits.Lookup<uint, ulong>(3));
    }

    [Fact]
    public void Truncated_Object_EveryPrefix_ThrowsTypedError()
    {
        Requires.Tool("clang", "clang");
        byte[] bytes = File.ReadAllBytes(BpfObjects.Test("multi"));
        for (int n = 0; n < bytes.Length; n += Math.Max(1, bytes.Length / 300))
        {
            try
            {
                CollectionSpec.Parse(bytes[..n]);
            }
            catch (Kscope.Formats.MalformedDataException)
            {
            }
        }
    }

    /// <summary>
    /// Every prefix of the file stops at the ELF parser (the section header table is at the end). This reaches
    /// the object parser: each section's contents are cut (sh_size shrunk to several prefixes, the file left
    /// valid ELF), and relocation entries get hostile symbol indexes and offsets. Each parse returns or throws
    /// the typed error (or the loader's NotSupportedException for externs it cannot resolve).
    /// </summary>
    [Fact]
    public void Parse_EachSectionTruncatedOrRelocationsHostile_ReachesObjectReader_ThrowsTyped()
    {
        Requires.Tool("clang", "clang");
        foreach (string name in new[] { "multi" })
        {
            byte[] bytes = File.ReadAllBytes(BpfObjects.Test(name));
            var elf = Kscope.Formats.Elf.ElfFile.Parse(bytes);
            ulong shoff = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(40));
            int reached = 0;
            foreach (var s in elf.Sections)
            {
                if (s.Index == 0 || s.Size == 0)
                {
                    continue;
                }
                foreach (ulong cut in new ulong[] { 0UL, 1, 4, 8, 12, 24, s.Size / 3, s.Size / 2, s.Size - 8, s.Size - 1 }.Where(c => c < s.Size).Distinct())
                {
                    byte[] m = (byte[])bytes.Clone();
                    System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(m.AsSpan((int)shoff + (s.Index * 64) + 32), cut);
                    reached += ParseTyped(m) ? 1 : 0;
                }
            }
            foreach (var rel in elf.RelocationSections)
            {
                int entries = (int)(rel.Size / 16);
                for (int i = 0; i < entries; i++)
                {
                    int at = (int)rel.Offset + (i * 16);
                    foreach (ulong info in new[] { (0xffffffUL << 32) | 1, (0UL << 32) | 1, ((ulong)elf.Symbols.Count << 32) | 1 })
                    {
                        byte[] m = (byte[])bytes.Clone();
                        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(m.AsSpan(at + 8), info);
                        ParseTyped(m);
                    }
                    foreach (ulong offset in new[] { 1UL, 0xfffffff8, ulong.MaxValue - 7 })
                    {
                        byte[] m = (byte[])bytes.Clone();
                        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(m.AsSpan(at), offset);
                        ParseTyped(m);
                    }
                }
            }
            // Most cuts leave a valid ELF whose contents the object reader itself must reject or accept.
            Assert.True(reached > 20, $"only {reached} truncated sections got past the ELF parser");
        }

        // True when the bytes got past ElfFile.Parse (the object reader saw them).
        static bool ParseTyped(byte[] m)
        {
            try
            {
                Kscope.Formats.Elf.ElfFile.Parse(m);
            }
            catch (Kscope.Formats.MalformedDataException)
            {
                return false;
            }
            try
            {
                CollectionSpec.Parse(m);
            }
            catch (Kscope.Formats.MalformedDataException)
            {
            }
            catch (NotSupportedException)
            {
            }
            return true;
        }
    }
}
