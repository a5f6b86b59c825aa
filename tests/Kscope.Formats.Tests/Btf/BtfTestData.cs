using Kscope.Formats.Btf;
using Kscope.Formats.Elf;

namespace Kscope.Formats.Tests.Btf;

internal static class BtfTestData
{
    public const string VmlinuxPath = "/sys/kernel/btf/vmlinux";

    private static readonly Lazy<byte[]> s_vmlinux = new(() => File.ReadAllBytes(VmlinuxPath));
    private static readonly Lazy<Kscope.Formats.Btf.Btf> s_parsed = new(() => Kscope.Formats.Btf.Btf.Parse(s_vmlinux.Value));

    public static byte[] VmlinuxBytes
    {
        get
        {
            if (!File.Exists(VmlinuxPath))
            {
                Requires.KernelLacks(KernelProbe.Btf, "no /sys/kernel/btf/vmlinux");
            }
            return s_vmlinux.Value;
        }
    }

    public static Kscope.Formats.Btf.Btf Vmlinux
    {
        get
        {
            _ = VmlinuxBytes;
            return s_parsed.Value;
        }
    }

    /// <summary>The raw .BTF section bytes of the test eBPF object.</summary>
    public static byte[] ObjectBtf(string path) => ElfFile.Parse(File.ReadAllBytes(path)).GetSection(".BTF")!.Data.ToArray();

    /// <summary>Touches everything a consumer might: every type, resolution, sizes, layouts, declarations.</summary>
    public static void Exercise(Kscope.Formats.Btf.Btf btf, int maxTypes = int.MaxValue)
    {
        foreach (int id in btf.OwnTypeIds.Take(maxTypes))
        {
            BtfType t = btf.GetType(id);
            _ = btf.GetName(id);
            btf.Resolve(id);
            btf.SizeOf(id);
            btf.AlignOf(id);
            BtfDeclaration.Declare(btf, id, "x");
            if (btf.ResolveType(id).IsComposite)
            {
                BtfLayout.Compute(btf, id);
            }
            if (t.Name.Length > 0)
            {
                btf.FindTypes(t.Name);
            }
        }
    }
}
