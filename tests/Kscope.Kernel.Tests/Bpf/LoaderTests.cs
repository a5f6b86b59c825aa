using Kscope.Kernel.Bpf;
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
}
