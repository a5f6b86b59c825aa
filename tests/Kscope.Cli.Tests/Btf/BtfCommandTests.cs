using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Kscope.Cli;
using Kscope.Cli.Infrastructure;
using Kscope.Diagnostics.Btf;
using Kscope.Formats.Btf;
using Kscope.Native;
using BtfTypes = Kscope.Formats.Btf.Btf;

namespace Kscope.Cli.Tests.Btf;

// A deliberately wrong mirror for `kscope btf verify` on this test assembly: kvm_regs without r15.
[StructLayout(LayoutKind.Sequential)]
[KernelStruct("kvm_regs")]
internal struct CliBadKvmRegs
{
    public ulong Rax, Rbx, Rcx, Rdx, Rsi, Rdi, Rsp, Rbp;
    public ulong R8, R9, R10, R11, R12, R13, R14;
    public ulong Rip, Rflags;
}

public class BtfCommandTests
{
    private const string Vmlinux = "/sys/kernel/btf/vmlinux";

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var console = new StringConsole();
        int code = KscopeCli.Invoke(console, args);
        return (code, console.OutText, console.Error.ToString() ?? "");
    }

    private static void RequireBtf()
    {
        if (!File.Exists(Vmlinux))
        {
            Requires.KernelLacks(KernelProbe.Btf, "no /sys/kernel/btf/vmlinux");
        }
    }

    // "<decl> name; /* off size */", "name:bits; /* off:bit size */", "} name; /* off size */"
    private static readonly Regex s_member = new(@"^\t+(.*?);\s+/\*\s+(\d+)(?::\s*(\d+))?\s+(\d+)\s+\*/$", RegexOptions.Compiled);
    private static readonly Regex s_hole = new(@"/\* XXX (\d+) (byte|bit)s? hole", RegexOptions.Compiled);
    private static readonly Regex s_size = new(@"/\* size: (\d+), cachelines: (\d+), members: (\d+) \*/", RegexOptions.Compiled);

    /// <summary>The semantic content of pahole-style output: members (name, offset, bit, size), holes, size line.</summary>
    private static List<string> Semantics(string text)
    {
        var list = new List<string>();
        foreach (string line in text.Split('\n'))
        {
            Match m = s_member.Match(line);
            if (m.Success)
            {
                string decl = Regex.Replace(m.Groups[1].Value, @"\s*__attribute__\(\(.*\)\)$", "");
                string name;
                Match fp = Regex.Match(decl, @"\(\*(\w+)\)");
                if (fp.Success)
                {
                    name = fp.Groups[1].Value;
                }
                else
                {
                    string last = decl.Split(' ', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "";
                    name = Regex.Replace(last.TrimStart('*'), @"(\[\d*\])+$|:\d+$", "");
                    if (name is "}")
                    {
                        name = "";
                    }
                }
                list.Add($"{name} @{m.Groups[2].Value}:{m.Groups[3].Value} {m.Groups[4].Value}");
                continue;
            }
            Match h = s_hole.Match(line);
            if (h.Success)
            {
                list.Add($"hole {h.Groups[1].Value} {h.Groups[2].Value}");
                continue;
            }
            Match s = s_size.Match(line);
            if (s.Success)
            {
                list.Add(s.Value);
            }
        }
        return list;
    }

    [Theory]
    [InlineData("kvm_run")]
    [InlineData("kvm_regs")]
    [InlineData("kvm_sregs")]
    [InlineData("kvm_userspace_memory_region")]
    [InlineData("perf_event_attr")]
    [InlineData("bpf_attr")]
    [InlineData("task_struct")]
    [InlineData("sk_buff")]
    public void Dump_MatchesPahole_MembersOffsetsSizesHoles(string type)
    {
        RequireBtf();
        string pahole = Requires.Tool("pahole", "dwarves");
        var (_, expected, _) = Tools.Run(pahole, "-C", type, Vmlinux); // pahole 1.24 warns about kinds 17/18 on stderr
        Assert.Contains("\n}", expected);
        var (code, actual, err) = Run("btf", "dump", type);
        Assert.True(code == ExitCodes.Ok, err);
        List<string> want = Semantics(expected), got = Semantics(actual);
        Assert.True(want.Count > 3);
        string diff = string.Join('\n', want.Zip(got).Where(p => p.First != p.Second).Take(10).Select(p => $"pahole: {p.First}\nkscope: {p.Second}"));
        Assert.True(want.SequenceEqual(got), $"{type}: {want.Count} pahole vs {got.Count} kscope items; first differences:\n{diff}");
    }

    [Theory]
    [InlineData("kvm_run")] // nested unions of structs of unions: pahole's type column is printf's %-*s with 26 - 8 * (level - 1)
    [InlineData("sk_buff")]
    [InlineData("kvm_regs")]
    [InlineData("kvm_sregs")]
    [InlineData("kvm_userspace_memory_region")]
    [InlineData("perf_event_attr")]
    public void Dump_FlatStruct_TextMatchesPaholeExactly(string type)
    {
        RequireBtf();
        string pahole = Requires.Tool("pahole", "dwarves");
        string expected = Tools.Run(pahole, "-C", type, Vmlinux).Out;
        var (_, actual, _) = Run("btf", "dump", type);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void C_ForADozenStructs_CompilesWithStaticAssertsFromOurLayout()
    {
        RequireBtf();
        string clang = Requires.Tool("clang", "clang");
        string[] types = ["kvm_run", "kvm_regs", "kvm_sregs", "kvm_userspace_memory_region", "perf_event_attr", "bpf_attr",
            "task_struct", "sk_buff", "epoll_event", "perf_event_mmap_page", "bpf_map_info", "io_uring_params", "rlimit64"];
        var (code, header, err) = Run(["btf", "c", .. types]);
        Assert.True(code == ExitCodes.Ok, err);
        BtfTypes btf = BtfTypes.Parse(File.ReadAllBytes(Vmlinux));
        var asserts = new StringBuilder("#include \"types.h\"\n#define offsetof(t, m) __builtin_offsetof(t, m)\n");
        int count = 0;
        foreach (string name in types)
        {
            BtfType t = BtfSource.Find(btf, name)!;
            string c = (t.Kind == BtfKind.Union ? "union " : "struct ") + name;
            asserts.Append($"_Static_assert(sizeof({c}) == {t.Size}, \"sizeof {c}\");\n");
            foreach (BtfLayoutMember m in BtfLayout.Compute(btf, t.Id).Members)
            {
                if (m.Name.Length > 0 && !m.IsBitfield)
                {
                    asserts.Append($"_Static_assert(offsetof({c}, {m.Name}) == {m.ByteOffset}, \"{c}.{m.Name}\");\n");
                    count++;
                }
            }
        }
        Assert.True(count > 300);
        string dir = Directory.CreateTempSubdirectory("kscope-btf-c-").FullName;
        File.WriteAllText(Path.Combine(dir, "types.h"), header);
        File.WriteAllText(Path.Combine(dir, "check.c"), asserts.ToString());
        var (cc, _, cerr) = Tools.RunIn(dir, clang, "-target", "bpf", "-fsyntax-only", "-Werror", "-Wno-unknown-attributes", "check.c");
        Assert.True(cc == 0, cerr);
    }

    [Fact]
    public void C_AllOfVmlinux_CompilesWithClang()
    {
        RequireBtf();
        string clang = Requires.Tool("clang", "clang");
        var (code, header, err) = Run("btf", "c");
        Assert.True(code == ExitCodes.Ok, err);
        string dir = Directory.CreateTempSubdirectory("kscope-btf-all-").FullName;
        File.WriteAllText(Path.Combine(dir, "vmlinux.h"), header);
        File.WriteAllText(Path.Combine(dir, "use.c"), "#include \"vmlinux.h\"\nint f(struct task_struct *t) { return t->pid; }\n");
        var (cc, _, cerr) = Tools.RunIn(dir, clang, "-target", "bpf", "-O2", "-c", "use.c", "-o", "use.o");
        Assert.True(cc == 0, cerr.Length > 4000 ? cerr[..4000] : cerr);
    }

    [Fact]
    public void Find_Glob_ListsKindAndSize()
    {
        RequireBtf();
        var (code, output, _) = Run("btf", "find", "kvm_*regs", "--kind", "struct");
        Assert.Equal(ExitCodes.Ok, code);
        Assert.Matches(@"struct\s+kvm_regs\s+144", output);
        Assert.Matches(@"struct\s+kvm_sregs\s+312", output);
        var (none, _, _) = Run("btf", "find", "kscope_no_such_*");
        Assert.Equal(ExitCodes.Warnings, none);
        var (jcode, json, _) = Run("btf", "find", "kvm_run", "--json");
        Assert.Equal(ExitCodes.Ok, jcode);
        using JsonDocument doc = JsonDocument.Parse(json);
        Assert.Contains(doc.RootElement.GetProperty("types").EnumerateArray(), e => e.GetProperty("kind").GetString() == "struct" && e.GetProperty("size").GetInt64() == 2352);
    }

    [Fact]
    public void Dump_Json_HasMembersAndHoles()
    {
        RequireBtf();
        var (code, json, _) = Run("btf", "dump", "task_struct", "--json");
        Assert.Equal(ExitCodes.Ok, code);
        using JsonDocument doc = JsonDocument.Parse(json);
        JsonElement t = doc.RootElement.GetProperty("types")[0];
        Assert.Equal("task_struct", t.GetProperty("name").GetString());
        Assert.True(t.GetProperty("holes").GetInt32() > 0);
        Assert.Contains(t.GetProperty("members").EnumerateArray(), m => m.GetProperty("name").GetString() == "comm" && m.GetProperty("size").GetInt64() == 16);
    }

    [Fact]
    public void Dump_UnknownType_IsUsageError()
    {
        RequireBtf();
        var (code, _, err) = Run("btf", "dump", "kscope_no_such_struct");
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("[ERROR] btf: no type named 'kscope_no_such_struct'", err);
    }

    [Fact]
    public void Verify_ShippedAssembly_AllMatch_WrongMirrorFails()
    {
        RequireBtf();
        var (ok, output, err) = Run("btf", "verify", typeof(SafeFd).Assembly.Location);
        Assert.True(ok == ExitCodes.Ok, output + err);
        Assert.Contains("[ OK ] Kscope.Native.", output);

        var (bad, text, _) = Run("btf", "verify", typeof(BtfCommandTests).Assembly.Location);
        Assert.Equal(ExitCodes.Failures, bad);
        Assert.Contains("[FAIL] Kscope.Cli.Tests.Btf.CliBadKvmRegs -> kvm_regs", text);
        Assert.Contains("size 136, kernel 144", text);
        var (_, json, _) = Run("btf", "verify", typeof(BtfCommandTests).Assembly.Location, "--json");
        using JsonDocument doc = JsonDocument.Parse(json);
        Assert.NotEmpty(doc.RootElement.GetProperty("mismatches").EnumerateArray());
    }

    [Fact]
    public void Diff_TwoObjects_ShowsMovedAndAddedMembers()
    {
        string clang = Requires.Tool("clang", "clang");
        string dir = Directory.CreateTempSubdirectory("kscope-btf-diff-").FullName;
        File.WriteAllText(Path.Combine(dir, "a.c"), "struct s { int a; long b; }; struct s g;\n");
        File.WriteAllText(Path.Combine(dir, "b.c"), "struct s { int a; int z; long b; char c; }; struct s g;\n");
        Tools.Check(clang, "-g", "-target", "bpf", "-c", Path.Combine(dir, "a.c"), "-o", Path.Combine(dir, "a.o"));
        Tools.Check(clang, "-g", "-target", "bpf", "-c", Path.Combine(dir, "b.c"), "-o", Path.Combine(dir, "b.o"));
        var (code, output, err) = Run("btf", "diff", Path.Combine(dir, "a.o"), Path.Combine(dir, "b.o"), "s");
        Assert.True(code == ExitCodes.Warnings, output + err);
        Assert.Contains("struct s: size 16 -> 24", output);
        Assert.Contains("struct s.z: added - -> 4 (4 bytes)", output);
        Assert.Contains("struct s.c: added - -> 16 (1 bytes)", output);
        var (same, text, _) = Run("btf", "diff", Path.Combine(dir, "a.o"), Path.Combine(dir, "a.o"), "s");
        Assert.Equal(ExitCodes.Ok, same);
        Assert.Contains("no differences", text);
    }
}
