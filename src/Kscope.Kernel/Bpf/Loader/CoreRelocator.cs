using Kscope.Formats.Btf;
using BtfTypes = Kscope.Formats.Btf.Btf;
using Kscope.Kernel.Bpf.Asm;

namespace Kscope.Kernel.Bpf.Loader;

/// <summary>
/// Applies CO-RE relocations against a target BTF (the running kernel's vmlinux). For each relocation the
/// local type (object BTF) is matched to target types of the same kind and name (ignoring a
/// "___flavor" suffix); the access string ("0:1:2": array index, then member indexes) is walked in
/// both, matching members by name; the result (offset, size, existence, signedness, shifts, type id,
/// enum value) is patched into the instruction. A relocation that cannot be satisfied poisons the
/// instruction as libbpf does (a call to helper 0xbad2310, so the verifier rejects it only if reached)
/// and is reported in <see cref="Failures"/>, naming the type and field.
/// </summary>
public sealed class CoreRelocator
{
    public const int PoisonHelper = 0xbad2310;

    private readonly BtfTypes _local;
    private readonly BtfTypes _target;

    public CoreRelocator(BtfTypes local, BtfTypes target)
    {
        _local = local;
        _target = target;
    }

    /// <summary>Relocations that could not be satisfied (instruction index, description).</summary>
    public List<(int Instruction, string Message)> Failures { get; } = new();

    public void Apply(InstructionList instructions, IEnumerable<CoreRelocation> relocations)
    {
        List<CoreRelocation> list = relocations.ToList();
        Apply(instructions, list, list.Select(Resolve).ToList(), Failures);
    }

    /// <summary>What one relocation resolves to against the target, without patching anything.</summary>
    public CoreResult Resolve(CoreRelocation relocation) =>
        TryResolve(relocation, out ulong value, out int newSize, out string? error) ? new CoreResult(true, value, newSize, null) : new CoreResult(false, 0, 0, error);

    /// <summary>
    /// Patches <paramref name="instructions"/> with resolved <paramref name="results"/> (one per relocation, in
    /// order; from <see cref="Resolve"/> or from <see cref="CoreCache"/>); unsatisfied ones are poisoned and, unless
    /// they only ask whether something exists, added to <paramref name="failures"/>.
    /// </summary>
    public static void Apply(InstructionList instructions, IReadOnlyList<CoreRelocation> relocations, IReadOnlyList<CoreResult> results,
        List<(int Instruction, string Message)> failures)
    {
        if (relocations.Count != results.Count)
        {
            throw new ArgumentException($"{results.Count} CO-RE results for {relocations.Count} relocations", nameof(results));
        }
        for (int i = 0; i < relocations.Count; i++)
        {
            CoreRelocation r = relocations[i];
            CoreResult result = results[i];
            Instruction ins = instructions[r.InstructionIndex];
            if (result.Ok)
            {
                instructions[r.InstructionIndex] = Patch(ins, r, result.Value, result.NewSize);
            }
            else if (IsExistence(r.Kind))
            {
                instructions[r.InstructionIndex] = Patch(ins, r, 0, 0);
            }
            else
            {
                failures.Add((r.InstructionIndex, result.Error ?? "CO-RE relocation failed"));
                instructions[r.InstructionIndex] = new Instruction((byte)((byte)JumpOperation.Call | (byte)InstructionClass.Jmp), 0, 0, 0, PoisonHelper) { Symbol = ins.Symbol, SourceLine = ins.SourceLine };
            }
        }
    }

    /// <summary>A one-line description of a relocation, as bpftool/objdump would show it.</summary>
    public static string Describe(BtfTypes btf, CoreRelocation r)
    {
        string type = TypeName(btf, r.LocalTypeId);
        return $"{r.Kind} {type} {AccessPath(btf, r.LocalTypeId, r.AccessString)} ({r.AccessString})";
    }

    private static bool IsExistence(BtfCoreRelocationKind kind) =>
        kind is BtfCoreRelocationKind.FieldExists or BtfCoreRelocationKind.TypeExists or BtfCoreRelocationKind.EnumValueExists or BtfCoreRelocationKind.TypeMatches;

    private bool TryResolve(CoreRelocation r, out ulong value, out int newSize, out string? error)
    {
        value = 0;
        newSize = 0;
        error = null;
        int localId = _local.Resolve(r.LocalTypeId);
        BtfType local = _local.GetType(localId);
        string essence = Essence(local.Name);
        string what = $"{TypeName(_local, r.LocalTypeId)}{AccessPath(_local, r.LocalTypeId, r.AccessString)}";

        if (r.Kind == BtfCoreRelocationKind.TypeIdLocal)
        {
            value = (ulong)r.LocalTypeId;
            return true;
        }
        if (local.Kind == BtfKind.Void || essence.Length == 0 && r.Kind is not (BtfCoreRelocationKind.FieldByteOffset or BtfCoreRelocationKind.FieldByteSize or BtfCoreRelocationKind.FieldExists or BtfCoreRelocationKind.FieldSigned or BtfCoreRelocationKind.FieldLShiftU64 or BtfCoreRelocationKind.FieldRShiftU64))
        {
            error = $"CO-RE relocation {r.Kind} on anonymous type {what} is not supported";
            return false;
        }
        string? lastError = null;
        foreach (int candidate in Candidates(local, essence))
        {
            if (TryCandidate(r, localId, candidate, out value, out newSize, out lastError))
            {
                return true;
            }
        }
        error = lastError ?? $"CO-RE relocation failed: {KindName(local.Kind)} {essence} does not exist in the running kernel's BTF (needed for {what})";
        return false;
    }

    private IEnumerable<int> Candidates(BtfType local, string essence)
    {
        foreach (int id in _target.FindTypes(essence))
        {
            BtfKind kind = _target.GetKind(id);
            if (SameKind(local.Kind, kind))
            {
                yield return id;
            }
        }
    }

    private static bool SameKind(BtfKind a, BtfKind b) =>
        a == b || (a is BtfKind.Enum or BtfKind.Enum64 && b is BtfKind.Enum or BtfKind.Enum64) ||
        (a is BtfKind.Struct or BtfKind.Union && b is BtfKind.Struct or BtfKind.Union && a == b);

    private bool TryCandidate(CoreRelocation r, int localId, int targetId, out ulong value, out int newSize, out string? error)
    {
        value = 0;
        newSize = 0;
        error = null;
        BtfType target = _target.GetType(targetId);
        switch (r.Kind)
        {
            case BtfCoreRelocationKind.TypeIdTarget:
                value = (ulong)targetId;
                return true;
            case BtfCoreRelocationKind.TypeExists:
            case BtfCoreRelocationKind.TypeMatches:
                value = 1;
                return true;
            case BtfCoreRelocationKind.TypeSize:
                value = (ulong)_target.SizeOf(targetId);
                return true;
            case BtfCoreRelocationKind.EnumValueExists:
            case BtfCoreRelocationKind.EnumValue:
            {
                int index = int.Parse(r.AccessString, System.Globalization.CultureInfo.InvariantCulture);
                BtfType local = _local.GetType(localId);
                string name = local.EnumValues[index].Name;
                foreach (BtfEnumValue v in target.EnumValues)
                {
                    if (Essence(v.Name) == Essence(name))
                    {
                        value = r.Kind == BtfCoreRelocationKind.EnumValue ? (ulong)v.Value : 1;
                        return true;
                    }
                }
                error = $"CO-RE relocation failed: enum {Essence(local.Name)} has no value '{name}' in the running kernel";
                return false;
            }
        }

        // Field relocations: walk the access string in both BTFs.
        string[] parts = r.AccessString.Split(':');
        int first = int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture);
        long localBits = first * _local.SizeOf(localId) * 8;
        long targetBits = first * _target.SizeOf(targetId) * 8;
        int lt = localId, tt = targetId;
        BtfMember? targetMember = null;
        string path = Essence(_local.GetType(localId).Name);
        for (int i = 1; i < parts.Length; i++)
        {
            int index = int.Parse(parts[i], System.Globalization.CultureInfo.InvariantCulture);
            BtfType lType = _local.ResolveType(lt);
            BtfType tType = _target.ResolveType(tt);
            if (lType.Kind == BtfKind.Array)
            {
                if (tType.Kind != BtfKind.Array)
                {
                    error = $"CO-RE relocation failed: {path} is an array locally but not in the running kernel";
                    return false;
                }
                lt = lType.Array.ElementTypeId;
                tt = tType.Array.ElementTypeId;
                localBits += index * _local.SizeOf(lt) * 8;
                targetBits += index * _target.SizeOf(tt) * 8;
                path += $"[{index}]";
                targetMember = null;
                continue;
            }
            BtfMember lm = lType.Members[index];
            if (lm.Name.Length == 0 && i < parts.Length - 1)
            {
                // An anonymous struct/union on the way (e.g. sock_common's unions): like libbpf, match only
                // named members; the target is searched for the next one through its own anonymous members,
                // which may nest differently.
                localBits += lm.BitOffset;
                lt = lm.TypeId;
                continue;
            }
            path += "." + (lm.Name.Length == 0 ? $"<anon {index}>" : lm.Name);
            if (lm.Name.Length == 0)
            {
                // The access ends at an anonymous member: the same position in the target, if anonymous there too.
                if (!tType.IsComposite || index >= tType.Members.Count || tType.Members[index].Name.Length != 0)
                {
                    error = $"CO-RE relocation failed: {KindName(tType.Kind)} {Essence(_target.GetName(tType.Id))} has no anonymous member #{index} in the running kernel (access {path})";
                    return false;
                }
                BtfMember anon = tType.Members[index];
                localBits += lm.BitOffset;
                targetBits += anon.BitOffset;
                lt = lm.TypeId;
                tt = anon.TypeId;
                targetMember = anon;
                continue;
            }
            if (!FindMember(tType, lm, out BtfMember tm, out long extraBits))
            {
                error = $"CO-RE relocation failed: {KindName(tType.Kind)} {Essence(_target.GetName(tType.Id))} has no field '{lm.Name}' in the running kernel (access {path})";
                return false;
            }
            localBits += lm.BitOffset;
            targetBits += extraBits + tm.BitOffset;
            lt = lm.TypeId;
            tt = tm.TypeId;
            targetMember = tm;
        }
        // The load that reads the field: for a bitfield, as libbpf computes it, a unit of the member type's
        // size aligned to that size (doubled until the bits fit), so that the byte offset, byte size and
        // the shifts all describe the same load (BPF_CORE_READ_BITFIELD_PROBED reads size bytes at offset,
        // then shifts left and right).
        long byteSize = _target.SizeOf(tt);
        long byteOffset = targetBits / 8;
        long bitSize = byteSize * 8;
        if (targetMember is { IsBitfield: true } bitfield && byteSize > 0)
        {
            bitSize = bitfield.BitfieldSize;
            byteOffset = targetBits / 8 / byteSize * byteSize;
            while (targetBits + bitSize - byteOffset * 8 > byteSize * 8)
            {
                if (byteSize >= 8)
                {
                    error = $"CO-RE relocation failed: bitfield {path} spans more than 8 bytes in the running kernel";
                    return false;
                }
                byteSize *= 2;
                byteOffset = targetBits / 8 / byteSize * byteSize;
            }
        }
        switch (r.Kind)
        {
            case BtfCoreRelocationKind.FieldByteOffset:
                value = (ulong)byteOffset;
                newSize = (int)byteSize;
                return true;
            case BtfCoreRelocationKind.FieldByteSize:
                value = (ulong)byteSize;
                return true;
            case BtfCoreRelocationKind.FieldExists:
                value = 1;
                return true;
            case BtfCoreRelocationKind.FieldSigned:
                value = _target.ResolveType(tt).IsSigned ? 1UL : 0UL;
                return true;
            case BtfCoreRelocationKind.FieldLShiftU64:
                value = (ulong)(64 - (targetBits + bitSize - byteOffset * 8));
                return true;
            case BtfCoreRelocationKind.FieldRShiftU64:
                value = (ulong)(64 - bitSize);
                return true;
        }
        error = $"CO-RE relocation kind {r.Kind} is not supported";
        return false;
    }

    /// <summary>Finds a member by name in a target struct/union, descending into anonymous members.</summary>
    private bool FindMember(BtfType type, BtfMember local, out BtfMember found, out long extraBits)
    {
        extraBits = 0;
        found = default;
        if (!type.IsComposite)
        {
            return false;
        }
        foreach (BtfMember m in type.Members)
        {
            if (local.Name.Length > 0 && Essence(m.Name) == Essence(local.Name))
            {
                found = m;
                return true;
            }
        }
        foreach (BtfMember m in type.Members)
        {
            if (m.Name.Length == 0 && FindMember(_target.ResolveType(m.TypeId), local, out found, out long inner))
            {
                extraBits = m.BitOffset + inner;
                return true;
            }
        }
        return false;
    }

    private static Instruction Patch(Instruction ins, CoreRelocation r, ulong value, int newSize)
    {
        if (ins.IsLoadImm64)
        {
            return ins with { Constant = (long)value };
        }
        switch (ins.Class)
        {
            case InstructionClass.Alu:
            case InstructionClass.Alu64:
                return ins with { Constant = (long)value };
            case InstructionClass.Ldx:
            case InstructionClass.St:
            case InstructionClass.Stx:
                if (r.Kind != BtfCoreRelocationKind.FieldByteOffset)
                {
                    return ins;
                }
                Instruction patched = ins with { Offset = checked((short)value) };
                if (ins.Class == InstructionClass.Ldx && newSize is 1 or 2 or 4 or 8 && OpCode.SizeInBytes(OpCode.SizeOf(ins.OpCode)) != newSize)
                {
                    Size s = newSize switch { 1 => Size.Byte, 2 => Size.Half, 4 => Size.Word, _ => Size.DWord };
                    patched = patched with { OpCode = (byte)((ins.OpCode & ~0x18) | (byte)s) };
                }
                return patched;
            default:
                return ins;
        }
    }

    internal static string Essence(string name)
    {
        int i = name.IndexOf("___", StringComparison.Ordinal);
        return i > 0 ? name[..i] : name;
    }

    private static string KindName(BtfKind kind) => kind switch
    {
        BtfKind.Struct => "struct",
        BtfKind.Union => "union",
        BtfKind.Enum or BtfKind.Enum64 => "enum",
        BtfKind.Typedef => "typedef",
        _ => kind.ToString().ToLowerInvariant(),
    };

    private static string TypeName(BtfTypes btf, int id)
    {
        BtfType t = btf.GetType(btf.Resolve(id));
        return $"{KindName(t.Kind)} {(t.Name.Length > 0 ? Essence(t.Name) : "<anon>")}";
    }

    private static string AccessPath(BtfTypes btf, int typeId, string access)
    {
        try
        {
            string[] parts = access.Split(':');
            BtfType t = btf.ResolveType(typeId);
            if (t.Kind is BtfKind.Enum or BtfKind.Enum64)
            {
                return "::" + t.EnumValues[int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture)].Name;
            }
            var sb = new System.Text.StringBuilder(parts[0] == "0" ? "" : $"[{parts[0]}]");
            int current = typeId;
            for (int i = 1; i < parts.Length; i++)
            {
                int index = int.Parse(parts[i], System.Globalization.CultureInfo.InvariantCulture);
                BtfType type = btf.ResolveType(current);
                if (type.Kind == BtfKind.Array)
                {
                    sb.Append('[').Append(index).Append(']');
                    current = type.Array.ElementTypeId;
                    continue;
                }
                BtfMember m = type.Members[index];
                sb.Append("->".Length > 0 && i == 1 ? "->" : ".").Append(m.Name);
                current = m.TypeId;
            }
            return sb.ToString();
        }
        catch (Exception e) when (e is ArgumentOutOfRangeException or FormatException or IndexOutOfRangeException)
        {
            return "";
        }
    }
}
