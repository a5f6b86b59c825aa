using System.Text.RegularExpressions;
using Kscope.Formats.Btf;
using Kscope.Kernel.Btf;

namespace Kscope.Kernel.Tests.Btf;

/// <summary>
/// The loaded modules' own split BTF (/sys/kernel/btf/MODULE) over vmlinux, against bpftool reading the same
/// files. This host builds everything in (only vmlinux there); the tests/kernels guests load virtio, 9p and
/// overlay modules, so the test runs there.
/// </summary>
[Trait("Category", "Kernel")]
public class ModuleBtfTests
{
    private static readonly Regex s_bpftoolType = new(@"^\[(\d+)\] (\w+) '([^']*)'", RegexOptions.Multiline | RegexOptions.Compiled);

    [Fact]
    public void ModuleBtf_SplitOverVmlinux_MatchesBpftool()
    {
        string bpftool = Requires.Tool("bpftool", "bpftool");
        if (!VmlinuxBtf.IsAvailable)
        {
            Requires.KernelLacks(KernelProbe.Btf, "no /sys/kernel/btf/vmlinux");
        }
        Requires.Kernel(KernelProbe.ModuleBtf); // loads a module from disk when none with BTF is loaded
        IReadOnlyList<string> modules = VmlinuxBtf.ModuleNames();
        if (modules.Count == 0)
        {
            Requires.KernelLacks(KernelProbe.ModuleBtf, "VmlinuxBtf.ModuleNames() is empty");
        }
        var vmlinux = VmlinuxBtf.Get();
        foreach (string module in modules.Take(3))
        {
            var btf = VmlinuxBtf.GetModule(module);
            Assert.Same(vmlinux, btf.Base);
            Assert.Equal(vmlinux.TypeCount, btf.FirstTypeId);
            Assert.True(btf.OwnTypeCount > 0, $"{module}: no types of its own");
            string dump = Tools.Check(bpftool, "btf", "dump", "file", Path.Combine(VmlinuxBtf.Directory, module)); // bpftool bases /sys/kernel/btf files on vmlinux
            int compared = 0;
            foreach (Match m in s_bpftoolType.Matches(dump))
            {
                int id = int.Parse(m.Groups[1].Value);
                string name = m.Groups[3].Value == "(anon)" ? "" : m.Groups[3].Value;
                Assert.True(name == btf.GetName(id), $"{module} type {id}: bpftool '{name}', kscope '{btf.GetName(id)}'");
                Assert.True(m.Groups[2].Value == KindName(btf.GetKind(id)), $"{module} type {id}: bpftool {m.Groups[2].Value}, kscope {btf.GetKind(id)}");
                compared++;
            }
            Assert.Equal(btf.OwnTypeCount, compared);
            // Every named struct of the module lays out (members resolve through the base's types).
            foreach (int id in btf.OwnTypeIds.Where(i => btf.GetKind(i) == BtfKind.Struct && btf.GetName(i).Length > 0).Take(200))
            {
                BtfLayout layout = BtfLayout.Compute(btf, id);
                Assert.Equal((long)btf.SizeOf(id), layout.Size);
            }
        }
    }

    private static string KindName(BtfKind kind) => kind switch
    {
        BtfKind.Int => "INT", BtfKind.Pointer => "PTR", BtfKind.Array => "ARRAY", BtfKind.Struct => "STRUCT",
        BtfKind.Union => "UNION", BtfKind.Enum => "ENUM", BtfKind.Forward => "FWD", BtfKind.Typedef => "TYPEDEF",
        BtfKind.Volatile => "VOLATILE", BtfKind.Const => "CONST", BtfKind.Restrict => "RESTRICT", BtfKind.Func => "FUNC",
        BtfKind.FuncProto => "FUNC_PROTO", BtfKind.Var => "VAR", BtfKind.DataSec => "DATASEC", BtfKind.Float => "FLOAT",
        BtfKind.DeclTag => "DECL_TAG", BtfKind.TypeTag => "TYPE_TAG", BtfKind.Enum64 => "ENUM64", _ => kind.ToString(),
    };
}
