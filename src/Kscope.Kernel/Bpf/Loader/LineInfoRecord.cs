namespace Kscope.Kernel.Bpf.Loader;

/// <summary>bpf_line_info for an instruction of a linked program: string offsets into the object's BTF, line and column.</summary>
public readonly record struct LineInfoRecord(int InstructionIndex, uint FileNameOffset, uint LineOffset, uint LineNumber, uint Column, string Line, string FileName);
