using Kscope.Native;
using Kscope.Formats;
using Kscope.Formats.Btf;
using Kscope.Kernel.Btf;
using BtfTypes = Kscope.Formats.Btf.Btf;

namespace Kscope.Diagnostics.Btf;

/// <summary>Where `kscope btf` reads types from: a file (raw BTF or an ELF with .BTF), split over an optional base, or the running kernel.</summary>
public static class BtfSource
{
    public static BtfTypes Open(string? file, string? baseFile)
    {
        BtfTypes? baseBtf = baseFile is null ? null : LoadFile(baseFile, null);
        if (file is null)
        {
            if (baseBtf is not null)
            {
                return baseBtf;
            }
            return VmlinuxBtf.Get();
        }
        return LoadFile(file, baseBtf);
    }

    private static BtfTypes LoadFile(string path, BtfTypes? baseBtf)
    {
        if (baseBtf is null && Path.GetDirectoryName(Path.GetFullPath(path)) == VmlinuxBtf.Directory)
        {
            // The running kernel's own files: vmlinux, or a module's split BTF over it (as bpftool does).
            string name = Path.GetFileName(path);
            return name == "vmlinux" ? VmlinuxBtf.Get() : VmlinuxBtf.GetModule(name);
        }
        byte[] bytes = InputFile.ReadAllBytes(path);
        try
        {
            return BtfTypes.ParseAny(bytes, baseBtf);
        }
        catch (MalformedDataException e) when (baseBtf is null && e.Offset >= 0)
        {
            // Split BTF (a module's, or pahole --btf_base output) continues its base's string and type ids.
            throw new MalformedDataException(e.FormatName, e.Offset,
                $"{e.Detail} in {path} (if it is split BTF, e.g. a module's, pass its base: --base {VmlinuxBtf.Path})");
        }
    }

    /// <summary>The type a user means by NAME: struct/union first, then enum, typedef, others; "struct x"/"union x"/"enum x" select the kind.</summary>
    public static BtfType? Find(BtfTypes btf, string name)
    {
        string trimmed = name.Trim();
        foreach ((string prefix, BtfKind[] kinds) in s_prefixes)
        {
            if (trimmed.StartsWith(prefix, StringComparison.Ordinal))
            {
                string bare = trimmed[prefix.Length..].Trim();
                foreach (BtfKind kind in kinds)
                {
                    if (btf.FindType(bare, kind) is { } t)
                    {
                        return t;
                    }
                }
                return null;
            }
        }
        return btf.FindAny(trimmed);
    }

    private static readonly (string, BtfKind[])[] s_prefixes =
    [
        ("struct ", [BtfKind.Struct]),
        ("union ", [BtfKind.Union]),
        ("enum ", [BtfKind.Enum, BtfKind.Enum64]),
    ];
}
