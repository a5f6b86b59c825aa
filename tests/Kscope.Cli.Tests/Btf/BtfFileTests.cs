using Kscope.Cli;
using Kscope.Cli.Infrastructure;

namespace Kscope.Cli.Tests.Btf;

/// <summary>
/// `kscope btf` on BTF files other than the running kernel's: a module-style split BTF encoded by pahole over
/// vmlinux (--file with --base), and the same C struct compiled for a 64-bit and a 32-bit target (two
/// architectures: BTF records no pointer size, so it comes from the target's <c>long</c>).
/// </summary>
public class BtfFileTests
{
    private const string Vmlinux = "/sys/kernel/btf/vmlinux";

    private const string TaskLike = """
        struct task_like { int pid; long state; void *stack; unsigned long flags; long long start_time; struct task_like *parent; };
        struct task_like g;
        """;

    internal static (int Code, string Out, string Err) Run(params string[] args)
    {
        var console = new StringConsole();
        int code = KscopeCli.Invoke(console, args);
        return (code, console.OutText, console.ErrorText);
    }

    /// <summary>Compiles <paramref name="source"/> with clang for <paramref name="target"/> and encodes its DWARF as BTF with pahole.</summary>
    private static string EncodeBtf(TempDirectory dir, string name, string source, string[] target, string? btfBase = null)
    {
        string clang = Requires.Tool("clang", "clang");
        string pahole = Requires.Tool("pahole", "dwarves");
        string c = dir.Write(name + ".c", source), o = dir[name + ".o"], btf = dir[name + ".btf"];
        Tools.Check(clang, [.. target, "-g", "-O1", "-c", c, "-o", o]);
        string[] args = btfBase is null ? [$"--btf_encode_detached={btf}", o] : [$"--btf_encode_detached={btf}", $"--btf_base={btfBase}", o];
        var (code, _, err) = Tools.Run(pahole, args);
        Assert.True(code == 0 && File.Exists(btf), $"pahole encoded no BTF from {o}: {err}");
        return btf;
    }

    [Fact]
    public void Dump_32And64BitBtf_LayoutsMatchPahole()
    {
        string pahole = Requires.Tool("pahole", "dwarves");
        using var dir = new TempDirectory("kscope-btf-arch-");
        foreach ((string name, string[] target, string size) in new[] { ("x86_64", new[] { "--target=x86_64-linux-gnu" }, "48"), ("i386", new[] { "--target=i386-linux-gnu" }, "28") })
        {
            string btf = EncodeBtf(dir, name, TaskLike, target);
            // pahole from the object's DWARF, which knows the target's sizes (BTF does not record a pointer size).
            // pahole 1.24 calls the i386 struct packed (28 bytes is no multiple of long long's 8; i386 aligns
            // long long to 4 inside structs): the layout lines must agree, the packed marker is pahole's guess.
            string expected = Tools.Check(pahole, "-F", "dwarf", "-C", "task_like", dir[name + ".o"]).Replace("} __attribute__((__packed__));", "};");
            var (code, actual, err) = Run("btf", "dump", "task_like", "--file", btf);
            Assert.True(code == ExitCodes.Ok, err);
            Assert.Equal(expected, actual);
            Assert.Contains($"/* size: {size},", actual);
        }
    }

    [Fact]
    public void Diff_TwoArchitectures_NamesLongAndPointerChanges()
    {
        using var dir = new TempDirectory("kscope-btf-arch-");
        string a64 = EncodeBtf(dir, "x86_64", TaskLike, ["--target=x86_64-linux-gnu"]);
        string a32 = EncodeBtf(dir, "i386", TaskLike, ["--target=i386-linux-gnu"]);
        var (code, output, err) = Run("btf", "diff", a64, a32, "task_like");
        Assert.True(code == ExitCodes.Warnings, output + err);
        Assert.Contains("struct task_like: size 48 -> 28", output);
        Assert.Contains("struct task_like: alignment 8 -> 4", output);
        Assert.Contains("struct task_like.state: offset 8 (8 bytes) -> 4 (4 bytes)", output);
        Assert.Contains("struct task_like.stack: offset 16 (8 bytes) -> 8 (4 bytes)", output);
        // i386 aligns long long to 4 inside structs: start_time moves from 32 to 16.
        Assert.Contains("struct task_like.start_time: offset 32 (8 bytes) -> 16 (8 bytes)", output);
        Assert.DoesNotContain("struct task_like.pid", output);
    }

    [Fact]
    public void DumpAndC_SplitBtfOverVmlinux_ResolveBaseTypesAndCompile()
    {
        if (!File.Exists(Vmlinux))
        {
            Requires.KernelLacks(KernelProbe.Btf, "no /sys/kernel/btf/vmlinux");
        }
        string clang = Requires.Tool("clang", "clang");
        using var dir = new TempDirectory("kscope-btf-split-");
        string split = EncodeBtf(dir, "mod", """
            struct list_head;
            struct my_mod_state { struct list_head *head; struct task_struct *owner; unsigned int flags:3; unsigned int more:5; long counter; };
            struct my_mod_state g_state;
            int use(struct my_mod_state *s) { return s->flags; }
            """, ["-target", "bpf"], Vmlinux);

        var (code, dump, err) = Run("btf", "dump", "my_mod_state", "--file", split, "--base", Vmlinux);
        Assert.True(code == ExitCodes.Ok, err);
        Assert.Contains("struct task_struct *       owner;                /*     8     8 */", dump);
        Assert.Contains("unsigned int               flags:3;              /*    16: 0  4 */", dump);
        Assert.Contains("/* size: 32, cachelines: 1, members: 5 */", dump);

        var (found, list, _) = Run("btf", "find", "my_mod_*", "--file", split, "--base", Vmlinux);
        Assert.True(found == ExitCodes.Ok, list);
        Assert.Contains("my_mod_state", list);

        var (cc, header, cerr) = Run("btf", "c", "my_mod_state", "--file", split, "--base", Vmlinux);
        Assert.True(cc == ExitCodes.Ok, cerr);
        dir.Write("mod.h", header);
        dir.Write("check.c", "#include \"mod.h\"\n_Static_assert(sizeof(struct my_mod_state) == 32, \"size\");\n" +
            "_Static_assert(__builtin_offsetof(struct my_mod_state, counter) == 24, \"counter\");\n");
        var (compiled, _, clangErr) = Tools.RunIn(dir.Path, clang, "-target", "bpf", "-fsyntax-only", "-Werror", "check.c");
        Assert.True(compiled == 0, clangErr + "\n" + header);

        // Without its base a split file cannot be read: the error says which option is missing.
        var (noBase, _, noBaseErr) = Run("btf", "dump", "my_mod_state", "--file", split);
        Assert.NotEqual(ExitCodes.Ok, noBase);
        Assert.Contains("--base", noBaseErr);
    }
}

/// <summary>Hostile but acyclic BTF: chains far deeper than any compiler emits end in a typed error or a result, never a stack overflow or a hang.</summary>
public class BtfDeepGraphTests
{
    private const int Depth = 100_000;

    private static (int Code, string Out, string Err) Run(params string[] args) => BtfFileTests.Run(args);

    /// <summary>struct s0 { int v; }; struct s(i) { struct s(i-1) inner; } … and typedef t(i) = t(i-1) … = int, each 100,000 deep.</summary>
    private static byte[] DeepBtf()
    {
        var b = new BtfBuilder();
        int i32 = b.Int("int", 4, 32, signed: true);
        uint member = b.Str("inner");
        int previous = b.Type("s0", (int)Kscope.Formats.Btf.BtfKind.Struct, 1, 4, false, b.Str("v"), (uint)i32, 0);
        for (int i = 1; i < Depth; i++)
        {
            previous = b.Type($"s{i}", (int)Kscope.Formats.Btf.BtfKind.Struct, 1, 4, false, member, (uint)previous, 0);
        }
        int typedef = i32;
        for (int i = 0; i < Depth; i++)
        {
            typedef = b.Type($"t{i}", (int)Kscope.Formats.Btf.BtfKind.Typedef, 0, (uint)typedef);
        }
        b.Type("holder", (int)Kscope.Formats.Btf.BtfKind.Struct, 1, 4, false, member, (uint)typedef, 0);
        return b.Build();
    }

    [Fact]
    public void DumpCFindDiff_HundredThousandDeepChains_TypedErrorOrResultNoCrash()
    {
        using var dir = new TempDirectory("kscope-btf-deep-");
        string file = dir["deep.btf"];
        File.WriteAllBytes(file, DeepBtf());
        string[][] commands =
        [
            ["btf", "dump", $"s{Depth - 1}", "--file", file],
            ["btf", "dump", "holder", "--file", file],
            ["btf", "dump", $"s{Depth - 1}", "--file", file, "--json"],
            ["btf", "c", $"s{Depth - 1}", "--file", file],
            ["btf", "c", "holder", "--file", file],
            ["btf", "c", "--file", file],
            ["btf", "find", "s9999*", "--file", file],
            ["btf", "diff", file, file, $"s{Depth - 1}", "holder"],
        ];
        foreach (string[] args in commands)
        {
            var (code, output, err) = Run(args);
            Assert.True(code is ExitCodes.Ok or ExitCodes.Error, $"kscope {string.Join(' ', args)}: exit {code}\n{err}");
            if (code == ExitCodes.Error)
            {
                Assert.Matches(@"^\[ERROR\] BTF: at offset \d+ \(0x[0-9a-f]+\): type \d+: ", err);
            }
            else
            {
                Assert.NotEmpty(output);
            }
        }
    }
}
