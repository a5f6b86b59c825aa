namespace Kscope.Kernel.Bpf.Asm;

/// <summary>
/// Builds one conditional jump to a label (<c>Asm.JEq.Imm(R0, 0, "out")</c>); the offset is filled in
/// when the instruction list is linked. The Offset overloads take a raw relative offset.
/// </summary>
public sealed class JumpBuilder
{
    private readonly byte _code;

    internal JumpBuilder(JumpOperation operation, bool wide32) =>
        _code = (byte)((byte)operation | (byte)(wide32 ? InstructionClass.Jmp32 : InstructionClass.Jmp));

    /// <summary>if dst op imm goto label.</summary>
    public Instruction Imm(Register dst, int value, string label) =>
        new Instruction(_code, dst, Register.R0, 0, value).WithReference(label);

    /// <summary>if dst op src goto label.</summary>
    public Instruction Reg(Register dst, Register src, string label) =>
        new Instruction((byte)(_code | (byte)Source.Reg), dst, src, 0, 0).WithReference(label);

    /// <summary>if dst op imm goto pc+offset+1.</summary>
    public Instruction Imm(Register dst, int value, short offset) => new(_code, dst, Register.R0, offset, value);

    /// <summary>if dst op src goto pc+offset+1.</summary>
    public Instruction Reg(Register dst, Register src, short offset) => new((byte)(_code | (byte)Source.Reg), dst, src, offset, 0);
}
