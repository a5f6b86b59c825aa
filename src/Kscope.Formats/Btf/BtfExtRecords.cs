namespace Kscope.Formats.Btf;

/// <summary>struct bpf_func_info: the FUNC type of the function starting at <see cref="InstructionOffset"/> (bytes into the ELF section).</summary>
public readonly record struct BtfFuncInfo(uint InstructionOffset, int TypeId);

/// <summary>struct bpf_line_info: source position of the instruction at <see cref="InstructionOffset"/> (bytes into the ELF section).</summary>
public readonly record struct BtfLineInfo(uint InstructionOffset, string FileName, string Line, uint LineNumber, uint Column)
{
    internal const int ColumnBits = 10;
}

/// <summary>
/// struct bpf_core_relo: at <see cref="InstructionOffset"/> (bytes into the ELF section), relocate
/// against local type <see cref="TypeId"/> along <see cref="AccessString"/> ("0:1:2") by <see cref="Kind"/>.
/// </summary>
public readonly record struct BtfCoreRelocation(uint InstructionOffset, int TypeId, string AccessString, BtfCoreRelocationKind Kind);

/// <summary>The records of one ELF section in a .BTF.ext info block.</summary>
public sealed record BtfExtSection<T>(string SectionName, IReadOnlyList<T> Records);
