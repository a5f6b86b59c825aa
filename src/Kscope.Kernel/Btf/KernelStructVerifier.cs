using Kscope.Formats.Btf;
using BtfTypes = Kscope.Formats.Btf.Btf;

namespace Kscope.Kernel.Btf;

/// <summary>
/// Checks managed mirrors of kernel structs ([KernelStruct]) against BTF: the size (exact, or not
/// larger when Prefix), and every instance field's offset and size against the kernel member named by
/// [KernelField] or the snake_case rule. Dotted paths go through named members; members of anonymous
/// structs/unions are found as C finds them; [KernelPadding] fields are skipped; fixed buffers
/// compare by total size.
/// </summary>
public sealed class KernelStructVerifier
{
    private readonly BtfTypes _btf;

    public KernelStructVerifier(BtfTypes btf) => _btf = btf;

    /// <summary>
    /// The running kernel may predate the mirrors (the tests/kernels guests run 5.10-6.12): a member
    /// the kernel's BTF lacks entirely, and a size larger than the kernel's, are tolerated, since the
    /// kernel never reads members it does not know (extensible uapi structs: it rejects non-zero bytes
    /// past its own size). Every member the kernel has must still match exactly.
    /// </summary>
    public bool AllowOlderKernel { get; init; }

    /// <summary>Verifies every [KernelStruct] type of an assembly file (read from metadata, not loaded).</summary>
    public IReadOnlyList<KernelStructMismatch> VerifyAssembly(string assemblyPath, out IReadOnlyList<ManagedStructLayout> checkedTypes)
    {
        using var reader = new ManagedLayoutReader(assemblyPath);
        checkedTypes = reader.ReadKernelStructs();
        var result = new List<KernelStructMismatch>();
        foreach (ManagedStructLayout layout in checkedTypes)
        {
            result.AddRange(Verify(layout));
        }
        return result;
    }

    public IReadOnlyList<KernelStructMismatch> Verify(ManagedStructLayout managed)
    {
        var result = new List<KernelStructMismatch>();
        void Report(string? field, string message) => result.Add(new KernelStructMismatch(managed.TypeName, managed.KernelName, field, message));

        BtfType? kernel = _btf.FindComposite(managed.KernelName);
        if (kernel is null)
        {
            BtfType? typedef = _btf.FindType(managed.KernelName, BtfKind.Typedef);
            if (typedef is not null && _btf.ResolveType(typedef.Id).IsComposite)
            {
                kernel = _btf.ResolveType(typedef.Id);
            }
        }
        if (kernel is null)
        {
            Report(null, $"the kernel's BTF has no struct or union named '{managed.KernelName}'");
            return result;
        }
        string what = kernel.Kind == BtfKind.Union ? "union" : "struct";
        if (AllowOlderKernel ? managed.Size < kernel.Size && !managed.Prefix : managed.Prefix ? managed.Size > kernel.Size : managed.Size != kernel.Size)
        {
            Report(null, managed.Prefix
                ? $"size {managed.Size} is larger than the kernel's {kernel.Size} ({what} {kernel.Name}, Prefix = true)"
                : $"size {managed.Size}, kernel {kernel.Size}");
        }
        foreach (ManagedField field in managed.Fields)
        {
            if (field.IsPadding)
            {
                continue;
            }
            if (!TryFindMember(kernel, field.KernelPath, out long bitOffset, out long size, out uint bitfield, out string? problem))
            {
                if (AllowOlderKernel && problem!.Contains(" has no member ", StringComparison.Ordinal))
                {
                    continue; // newer than this kernel
                }
                Report(field.Name, problem!);
                continue;
            }
            if (bitfield != 0)
            {
                Report(field.Name, $"'{field.KernelPath}' is a {bitfield}-bit bitfield (bit {bitOffset}): mirror its storage word and mark the field [KernelPadding]");
                continue;
            }
            long offset = bitOffset / 8;
            if (field.Offset != offset)
            {
                Report(field.Name, $"offset {field.Offset}, kernel '{field.KernelPath}' is at {offset}");
            }
            if (field.Size != size)
            {
                Report(field.Name, $"size {field.Size}, kernel '{field.KernelPath}' is {size} bytes");
            }
        }
        return result;
    }

    /// <summary>Finds a dotted member path; bit offset from the start of <paramref name="root"/>.</summary>
    public bool TryFindMember(BtfType root, string path, out long bitOffset, out long size, out uint bitfieldSize, out string? problem)
    {
        bitOffset = 0;
        size = 0;
        bitfieldSize = 0;
        BtfType current = root;
        string[] parts = path.Split('.');
        for (int i = 0; i < parts.Length; i++)
        {
            if (!current.IsComposite)
            {
                problem = $"'{string.Join('.', parts[..i])}' is not a struct or union, cannot look up '{parts[i]}'";
                return false;
            }
            if (!TryFindDirect(current, parts[i], 0, out long at, out BtfMember member))
            {
                problem = i == 0
                    ? $"the kernel's {KindName(root)} {root.Name} has no member '{parts[i]}' (name it with [KernelField(\"…\")] or mark it [KernelPadding])"
                    : $"'{string.Join('.', parts[..i])}' has no member '{parts[i]}'";
                return false;
            }
            bitOffset += at;
            bitfieldSize = member.BitfieldSize;
            size = _btf.SizeOf(member.TypeId);
            current = _btf.ResolveType(member.TypeId);
        }
        problem = null;
        return true;
    }

    private bool TryFindDirect(BtfType composite, string name, int depth, out long bitOffset, out BtfMember found)
    {
        if (depth < 32)
        {
            foreach (BtfMember m in composite.Members)
            {
                if (m.Name == name)
                {
                    bitOffset = m.BitOffset;
                    found = m;
                    return true;
                }
            }
            foreach (BtfMember m in composite.Members)
            {
                if (m.Name.Length == 0)
                {
                    BtfType inner = _btf.ResolveType(m.TypeId);
                    if (inner.IsComposite && TryFindDirect(inner, name, depth + 1, out long innerOffset, out found))
                    {
                        bitOffset = m.BitOffset + innerOffset;
                        return true;
                    }
                }
            }
        }
        bitOffset = 0;
        found = default;
        return false;
    }

    private static string KindName(BtfType t) => t.Kind == BtfKind.Union ? "union" : "struct";
}
