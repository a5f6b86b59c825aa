namespace Kscope.Kernel.Bpf.Loader;

/// <summary>bpf_func_info for an instruction of a linked program (BTF FUNC type id in the object's BTF).</summary>
public readonly record struct FuncInfoRecord(int InstructionIndex, int TypeId);
