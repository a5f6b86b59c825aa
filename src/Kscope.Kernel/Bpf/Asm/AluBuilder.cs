namespace Kscope.Kernel.Bpf.Asm;

/// <summary>Builds one ALU operation in its immediate and register forms (<c>Asm.Add.Imm(R1, 22)</c>).</summary>
public sealed class AluBuilder
{
    private readonly byte _code;

    internal AluBuilder(AluOperation operation, bool wide) =>
        _code = (byte)((byte)operation | (byte)(wide ? InstructionClass.Alu64 : InstructionClass.Alu));

    /// <summary>dst op= imm.</summary>
    public Instruction Imm(Register dst, int value) => new(_code, dst, Register.R0, 0, value);

    /// <summary>dst op= src.</summary>
    public Instruction Reg(Register dst, Register src) => new((byte)(_code | (byte)Source.Reg), dst, src, 0, 0);
}
