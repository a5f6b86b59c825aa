using System.Diagnostics;
using System.Text.RegularExpressions;
using Kscope.Formats.Btf;
using Kscope.Formats.Elf;
using BtfFile = Kscope.Formats.Btf.Btf;

namespace Kscope.Formats.Tests.Btf;

public class BtfTests
{
    private static readonly Regex s_bpftoolType = new(@"^\[(\d+)\] (\S+) '([^']*)'", RegexOptions.Multiline | RegexOptions.Compiled);

    private static readonly Dictionary<string, BtfKind> s_bpftoolKinds = new()
    {
        ["INT"] = BtfKind.Int, ["PTR"] = BtfKind.Pointer, ["ARRAY"] = BtfKind.Array, ["STRUCT"] = BtfKind.Struct,
        ["UNION"] = BtfKind.Union, ["ENUM"] = BtfKind.Enum, ["FWD"] = BtfKind.Forward, ["TYPEDEF"] = BtfKind.Typedef,
        ["VOLATILE"] = BtfKind.Volatile, ["CONST"] = BtfKind.Const, ["RESTRICT"] = BtfKind.Restrict, ["FUNC"] = BtfKind.Func,
        ["FUNC_PROTO"] = BtfKind.FuncProto, ["VAR"] = BtfKind.Var, ["DATASEC"] = BtfKind.DataSec, ["FLOAT"] = BtfKind.Float,
        ["DECL_TAG"] = BtfKind.DeclTag, ["TYPE_TAG"] = BtfKind.TypeTag, ["ENUM64"] = BtfKind.Enum64,
    };

    private static void AssertMatchesBpftool(BtfFile btf, string bpftoolOutput)
    {
        int compared = 0;
        foreach (Match m in s_bpftoolType.Matches(bpftoolOutput))
        {
            int id = int.Parse(m.Groups[1].Value);
            string name = m.Groups[3].Value == "(anon)" ? "" : m.Groups[3].Value;
            Assert.True(s_bpftoolKinds.TryGetValue(m.Groups[2].Value, out BtfKind kind), $"unknown bpftool kind {m.Groups[2].Value}");
            Assert.True(kind == btf.GetKind(id), $"type {id}: bpftool {kind}, kscope {btf.GetKind(id)}");
            Assert.True(name == btf.GetName(id), $"type {id}: bpftool '{name}', kscope '{btf.GetName(id)}'");
            compared++;
        }
        Assert.Equal(btf.OwnTypeCount, compared);
    }

    [Fact]
    public void Vmlinux_EveryTypeNameAndKind_MatchesBpftool()
    {
        string bpftool = Requires.Tool("bpftool", "bpftool");
        BtfFile btf = BtfTestData.Vmlinux;
        Assert.True(btf.OwnTypeCount > 10_000);
        AssertMatchesBpftool(btf, Tools.Check(bpftool, "btf", "dump", "file", BtfTestData.VmlinuxPath));
    }

    [Fact]
    public void Vmlinux_OpenAndFindKvmRun_IsLazyAndCorrect()
    {
        byte[] bytes = BtfTestData.VmlinuxBytes;
        var watch = Stopwatch.StartNew();
        BtfFile btf = BtfFile.Parse(bytes);
        BtfType kvmRun = btf.FindComposite("kvm_run") ?? throw new Xunit.Sdk.XunitException("no struct kvm_run");
        watch.Stop();
        Assert.Equal(BtfKind.Struct, kvmRun.Kind);
        Assert.Equal(kvmRun.Size, (uint)btf.SizeOf(kvmRun.Id));
        BtfMember exitReason = kvmRun.Members.Single(m => m.Name == "exit_reason");
        Assert.Equal(8u, exitReason.ByteOffset);
        Assert.Equal(4, btf.SizeOf(exitReason.TypeId));
        Assert.Equal(BtfKind.Int, btf.ResolveType(exitReason.TypeId).Kind); // __u32 -> unsigned int
        // Not a timing assertion: just visible in the test log.
        Console.WriteLine($"open vmlinux BTF + find kvm_run: {watch.Elapsed.TotalMilliseconds:F1} ms, {btf.OwnTypeCount} types");
    }

    [Fact]
    public void Vmlinux_EnumValuesAndTypedefChains_Resolve()
    {
        BtfFile btf = BtfTestData.Vmlinux;
        BtfType bpfCmd = btf.FindType("bpf_cmd", BtfKind.Enum)!;
        Assert.Equal(0, bpfCmd.EnumValues.Single(v => v.Name == "BPF_MAP_CREATE").Value);
        Assert.Equal(5, bpfCmd.EnumValues.Single(v => v.Name == "BPF_PROG_LOAD").Value);
        BtfType u64 = btf.FindType("u64", BtfKind.Typedef)!;
        BtfType resolved = btf.ResolveType(u64.Id);
        Assert.Equal(BtfKind.Int, resolved.Kind);
        Assert.Equal(8u, resolved.Size);
        Assert.Equal(8, btf.AlignOf(u64.Id));
    }

    [Fact]
    public void BpfObject_TypesMatchBpftool_BothEndiannesses()
    {
        string bpftool = Requires.Tool("bpftool", "bpftool");
        BtfFile le = BtfFile.FromElf(ElfFile.Parse(File.ReadAllBytes(BpfTestObject.LittleEndianPath)));
        BtfFile be = BtfFile.FromElf(ElfFile.Parse(File.ReadAllBytes(BpfTestObject.BigEndianPath)));
        Assert.False(le.BigEndian);
        Assert.True(be.BigEndian);
        AssertMatchesBpftool(le, Tools.Check(bpftool, "btf", "dump", "file", BpfTestObject.LittleEndianPath));
        Assert.Equal(le.OwnTypeCount, be.OwnTypeCount);
        foreach (int id in le.OwnTypeIds)
        {
            BtfType a = le.GetType(id), b = be.GetType(id);
            Assert.Equal((a.Kind, a.Name, a.SizeOrType, a.Vlen, a.KindFlag), (b.Kind, b.Name, b.SizeOrType, b.Vlen, b.KindFlag));
            Assert.Equal(a.Members, b.Members);
            Assert.Equal(a.EnumValues, b.EnumValues);
            Assert.Equal(a.Parameters, b.Parameters);
        }
    }

    [Fact]
    public void BpfObject_BitfieldsEnumsAndLayout_AreDecoded()
    {
        BtfFile btf = BtfFile.FromElf(ElfFile.Parse(File.ReadAllBytes(BpfTestObject.LittleEndianPath)));
        BtfType task = btf.FindComposite("task_like")!;
        Assert.True(task.HasBitfieldEncoding);
        BtfMember a = task.Members.Single(m => m.Name == "flag_a"), b = task.Members.Single(m => m.Name == "flag_b");
        Assert.Equal((32u, 3u), (a.BitOffset, a.BitfieldSize));
        Assert.Equal((35u, 5u), (b.BitOffset, b.BitfieldSize));
        BtfLayout layout = BtfLayout.Compute(btf, task.Id);
        BtfLayoutMember fb = layout.Members.Single(m => m.Name == "flag_b");
        Assert.Equal((4L, 4L, 3u), (fb.ByteOffset, fb.Size, fb.BitPosition));
        Assert.Equal(24L, fb.BitHoleAfter); // 32 - 8 bits used of the unsigned int unit
        Assert.Equal(0L, fb.HoleAfter);
        BtfLayoutMember u = layout.Members.Single(m => m.Name == "u");
        Assert.NotNull(u.Nested);
        Assert.True(u.Nested!.IsUnion);
        Assert.Equal(2, u.Nested.Members.Count);
        Assert.Equal(4L, layout.Members.Single(m => m.Name == "name").HoleAfter); // ends at 36, parent at 40
        Assert.Equal(4L, layout.Padding); // enum at 48 + 4, size 56

        BtfType color = btf.FindType("color", BtfKind.Enum)!;
        long blue = color.EnumValues.Single(v => v.Name == "BLUE").Value;
        Assert.Equal(-4, color.IsSigned ? blue : unchecked((int)blue)); // clang 14 writes it unsigned
        // clang >= 15 emits ENUM64; clang 14 an 8-byte ENUM with the value truncated.
        BtfType big = btf.FindType("big64", BtfKind.Enum64) ?? btf.FindType("big64", BtfKind.Enum)!;
        Assert.Equal(8u, big.Size);
        if (big.Kind == BtfKind.Enum64)
        {
            Assert.Equal(0x1234567890L, big.EnumValues.Single().Value);
        }

        Assert.Equal("const volatile char name[16]", BtfDeclaration.Declare(btf, task.Members.Single(m => m.Name == "name").TypeId, "name"));
        Assert.Equal("struct task_like *parent", BtfDeclaration.Declare(btf, task.Members.Single(m => m.Name == "parent").TypeId, "parent"));
        BtfType helper = btf.FindType("helper", BtfKind.Func)!;
        Assert.Equal("int helper(struct task_like *, enum big64)", BtfDeclaration.Declare(btf, helper.TypeId, "helper"));
    }

    [Fact]
    public void BpfObject_BtfExt_FuncLineAndCoreRecords()
    {
        foreach (string path in new[] { BpfTestObject.LittleEndianPath, BpfTestObject.BigEndianPath })
        {
            BtfObject obj = BtfObject.FromElf(ElfFile.Parse(File.ReadAllBytes(path)));
            BtfExt ext = obj.Ext!;
            const string section = "tracepoint/syscalls/sys_enter_openat";
            BtfExtSection<BtfFuncInfo> funcs = ext.FuncInfos.Single(s => s.SectionName == section);
            Assert.Contains(funcs.Records, f => obj.Btf.GetName(f.TypeId) == "on_open" && f.InstructionOffset == 0);
            Assert.Equal(8u, ext.FuncInfoRecordSize);
            BtfExtSection<BtfLineInfo> lines = ext.LineInfos.Single(s => s.SectionName == section);
            Assert.Contains(lines.Records, l => l.FileName.EndsWith("test.bpf.c", StringComparison.Ordinal) && l.Line.Contains("lookup(&counts"));
            BtfExtSection<BtfCoreRelocation> core = ext.CoreRelocations.Single(s => s.SectionName == section);
            Assert.Contains(core.Records, c => obj.Btf.GetName(c.TypeId) == "task_like" && c.Kind == BtfCoreRelocationKind.FieldByteOffset);
            Assert.All(core.Records, c => Assert.Matches(@"^\d+(:\d+)*$", c.AccessString));
        }
    }

    [Fact]
    public void SplitBtf_FromPahole_ResolvesAgainstVmlinuxAndMatchesBpftool()
    {
        string pahole = Requires.Tool("pahole", "dwarves");
        string bpftool = Requires.Tool("bpftool", "bpftool");
        string clang = Requires.Tool("clang", "clang");
        BtfFile vmlinux = BtfTestData.Vmlinux;
        string dir = Path.Combine(Path.GetTempPath(), $"kscope-split-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "mod.c"), """
            struct list_head;
            struct my_mod_state { struct list_head *head; struct task_struct *owner; unsigned int flags:3; unsigned int more:5; long counter; };
            struct my_mod_state g_state;
            int use(struct my_mod_state *s) { return s->flags; }
            """);
        Tools.Check(clang, "-g", "-O1", "-target", "bpf", "-c", Path.Combine(dir, "mod.c"), "-o", Path.Combine(dir, "mod.o"));
        string split = Path.Combine(dir, "mod.btf");
        Tools.Run(pahole, $"--btf_encode_detached={split}", $"--btf_base={BtfTestData.VmlinuxPath}", Path.Combine(dir, "mod.o"));
        Assert.True(File.Exists(split), "pahole produced no split BTF");

        BtfFile btf = BtfFile.Parse(File.ReadAllBytes(split), vmlinux);
        Assert.Equal(vmlinux.TypeCount, btf.FirstTypeId);
        AssertMatchesBpftool(btf, Tools.Check(bpftool, "-B", BtfTestData.VmlinuxPath, "btf", "dump", "file", split));
        BtfType state = btf.FindComposite("my_mod_state")!;
        Assert.True(state.Id >= btf.FirstTypeId);
        BtfMember owner = state.Members.Single(m => m.Name == "owner");
        Assert.True(owner.TypeId < btf.FirstTypeId || btf.GetType(owner.TypeId).TypeId < btf.FirstTypeId); // points into vmlinux
        Assert.Equal("struct task_struct *owner", BtfDeclaration.Declare(btf, owner.TypeId, "owner"));
        Assert.NotNull(btf.FindComposite("task_struct")); // base lookups through the split
        Assert.Equal(32, btf.SizeOf(state.Id));
        Assert.Equal(8, btf.PointerSize); // from the base's long
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public void Parse_EveryPrefixOfObjectBtf_ParsesOrThrowsTyped()
    {
        byte[] blob = BtfTestData.ObjectBtf(BpfTestObject.LittleEndianPath);
        for (int length = 0; length <= blob.Length; length++)
        {
            ExerciseOrMalformed(blob.AsMemory(0, length));
        }
    }

    [Fact]
    public void Parse_SampledPrefixesOfVmlinux_ParseOrThrowTyped()
    {
        byte[] blob = BtfTestData.VmlinuxBytes;
        var rng = new Random(7);
        for (int i = 0; i < 300; i++)
        {
            int length = i < 100 ? i : rng.Next(blob.Length);
            try
            {
                BtfFile btf = BtfFile.Parse(blob.AsMemory(0, length));
                BtfTestData.Exercise(btf, 200);
            }
            catch (MalformedDataException)
            {
            }
        }
    }

    [Fact]
    public void Parse_RandomMutations_NeverCrashOrHang()
    {
        var rng = new Random(42);
        foreach (string path in new[] { BpfTestObject.LittleEndianPath, BpfTestObject.BigEndianPath })
        {
            byte[] original = BtfTestData.ObjectBtf(path);
            for (int iteration = 0; iteration < 3000; iteration++)
            {
                byte[] data = (byte[])original.Clone();
                int flips = rng.Next(1, 6);
                for (int f = 0; f < flips; f++)
                {
                    int at = rng.Next(4) == 0 ? rng.Next(Math.Min(24, data.Length)) : rng.Next(data.Length);
                    data[at] = rng.Next(3) switch { 0 => (byte)rng.Next(256), 1 => (byte)(data[at] ^ (1 << rng.Next(8))), _ => 0xff };
                }
                ExerciseOrMalformed(data);
            }
        }
        byte[] vmlinux = BtfTestData.VmlinuxBytes;
        for (int iteration = 0; iteration < 40; iteration++)
        {
            byte[] data = (byte[])vmlinux.Clone();
            for (int f = 0; f < 20; f++)
            {
                data[rng.Next(Math.Min(data.Length, 24 + 400_000))] = (byte)rng.Next(256);
            }
            try
            {
                BtfTestData.Exercise(BtfFile.Parse(data), 3000);
            }
            catch (MalformedDataException)
            {
            }
        }
    }

    [Fact]
    public void Resolve_CyclicTypedefs_ThrowsTyped()
    {
        var b = new BtfBuilder();
        int a = b.Type("a", (int)BtfKind.Typedef, 0, 2);
        b.Type("b", (int)BtfKind.Typedef, 0, (uint)a);
        BtfFile btf = BtfFile.Parse(b.Build());
        Assert.Throws<MalformedDataException>(() => btf.Resolve(a));
        Assert.Throws<MalformedDataException>(() => btf.SizeOf(a));
        Assert.Throws<MalformedDataException>(() => BtfDeclaration.Declare(btf, a, "x") + btf.AlignOf(a));
    }

    [Fact]
    public void Layout_StructContainingItselfByValue_ThrowsTyped()
    {
        var b = new BtfBuilder();
        int i = b.Int("int", 4, 32, signed: true);
        uint name = b.Str("x");
        // anonymous struct 2 = { int x; <anon struct 2> self; <anon struct 2> again; }, and a named wrapper.
        int self = b.Type("", (int)BtfKind.Struct, 3, 16, false, name, (uint)i, 0, name, 2, 32, name, 2, 64);
        int wrapper = b.Type("wrapper", (int)BtfKind.Struct, 1, 16, false, name, (uint)self, 0);
        BtfFile btf = BtfFile.Parse(b.Build());
        Assert.Throws<MalformedDataException>(() => BtfLayout.Compute(btf, wrapper));
        Assert.Throws<MalformedDataException>(() => btf.AlignOf(wrapper));
    }

    [Fact]
    public void Parse_HandMadeBigEndian_MatchesLittleEndian()
    {
        BtfFile Make(bool bigEndian)
        {
            var b = new BtfBuilder();
            int i = b.Int("int", 4, 32, signed: true);
            uint x = b.Str("x"), y = b.Str("y");
            b.Type("pair", (int)BtfKind.Struct, 2, 8, true, x, (uint)i, (3u << 24) | 0, y, (uint)i, 32);
            b.Type("e64", (int)BtfKind.Enum64, 1, 8, true, x, 0xfffffffe, 0xffffffff);
            return BtfFile.Parse(b.Build(bigEndian));
        }
        BtfFile le = Make(false), be = Make(true);
        Assert.True(be.BigEndian);
        Assert.Equal(le.FindComposite("pair")!.Members, be.FindComposite("pair")!.Members);
        Assert.Equal(3u, be.FindComposite("pair")!.Members[0].BitfieldSize);
        Assert.Equal(-2L, be.FindType("e64", BtfKind.Enum64)!.EnumValues[0].Value);
    }

    [Fact]
    public void Parse_BadStringOffset_ThrowsWithOffset()
    {
        var b = new BtfBuilder();
        b.Int("int", 4, 32);
        byte[] blob = b.Build();
        blob[24] = 0xff; // name_off of type 1
        BtfFile btf = BtfFile.Parse(blob);
        var e = Assert.Throws<MalformedDataException>(() => btf.GetType(1));
        Assert.Equal(24, e.Offset);
    }

    private static void ExerciseOrMalformed(ReadOnlyMemory<byte> data)
    {
        try
        {
            BtfTestData.Exercise(BtfFile.Parse(data));
        }
        catch (MalformedDataException)
        {
        }
    }
}
