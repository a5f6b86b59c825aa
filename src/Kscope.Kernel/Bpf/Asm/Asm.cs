namespace Kscope.Kernel.Bpf.Asm;

/// <summary>
/// The eBPF assembler DSL: one member per operation, returning <see cref="Instruction"/> values to put in
/// an <see cref="InstructionList"/>. ALU ops are <c>Asm.Add.Imm(dst, 1)</c> (64-bit) and
/// <c>Asm.Add32.Reg(dst, src)</c> (32-bit); jumps take a label (<c>Asm.JEq.Imm(R0, 0, "out")</c>)
/// that <see cref="InstructionList.Link"/> resolves; memory ops name the size.
/// </summary>
public static class Asm
{
    public static readonly AluBuilder Add = new(AluOperation.Add, true);
    public static readonly AluBuilder Sub = new(AluOperation.Sub, true);
    public static readonly AluBuilder Mul = new(AluOperation.Mul, true);
    public static readonly AluBuilder Div = new(AluOperation.Div, true);
    public static readonly AluBuilder Or = new(AluOperation.Or, true);
    public static readonly AluBuilder And = new(AluOperation.And, true);
    public static readonly AluBuilder LSh = new(AluOperation.LSh, true);
    public static readonly AluBuilder RSh = new(AluOperation.RSh, true);
    public static readonly AluBuilder Mod = new(AluOperation.Mod, true);
    public static readonly AluBuilder Xor = new(AluOperation.Xor, true);
    public static readonly AluBuilder Mov = new(AluOperation.Mov, true);
    public static readonly AluBuilder ArSh = new(AluOperation.ArSh, true);

    public static readonly AluBuilder Add32 = new(AluOperation.Add, false);
    public static readonly AluBuilder Sub32 = new(AluOperation.Sub, false);
    public static readonly AluBuilder Mul32 = new(AluOperation.Mul, false);
    public static readonly AluBuilder Div32 = new(AluOperation.Div, false);
    public static readonly AluBuilder Or32 = new(AluOperation.Or, false);
    public static readonly AluBuilder And32 = new(AluOperation.And, false);
    public static readonly AluBuilder LSh32 = new(AluOperation.LSh, false);
    public static readonly AluBuilder RSh32 = new(AluOperation.RSh, false);
    public static readonly AluBuilder Mod32 = new(AluOperation.Mod, false);
    public static readonly AluBuilder Xor32 = new(AluOperation.Xor, false);
    public static readonly AluBuilder Mov32 = new(AluOperation.Mov, false);
    public static readonly AluBuilder ArSh32 = new(AluOperation.ArSh, false);

    public static readonly JumpBuilder JEq = new(JumpOperation.JEq, false);
    public static readonly JumpBuilder JNE = new(JumpOperation.JNE, false);
    public static readonly JumpBuilder JGT = new(JumpOperation.JGT, false);
    public static readonly JumpBuilder JGE = new(JumpOperation.JGE, false);
    public static readonly JumpBuilder JLT = new(JumpOperation.JLT, false);
    public static readonly JumpBuilder JLE = new(JumpOperation.JLE, false);
    public static readonly JumpBuilder JSGT = new(JumpOperation.JSGT, false);
    public static readonly JumpBuilder JSGE = new(JumpOperation.JSGE, false);
    public static readonly JumpBuilder JSLT = new(JumpOperation.JSLT, false);
    public static readonly JumpBuilder JSLE = new(JumpOperation.JSLE, false);
    public static readonly JumpBuilder JSet = new(JumpOperation.JSet, false);

    public static readonly JumpBuilder JEq32 = new(JumpOperation.JEq, true);
    public static readonly JumpBuilder JNE32 = new(JumpOperation.JNE, true);
    public static readonly JumpBuilder JGT32 = new(JumpOperation.JGT, true);
    public static readonly JumpBuilder JGE32 = new(JumpOperation.JGE, true);
    public static readonly JumpBuilder JLT32 = new(JumpOperation.JLT, true);
    public static readonly JumpBuilder JLE32 = new(JumpOperation.JLE, true);
    public static readonly JumpBuilder JSGT32 = new(JumpOperation.JSGT, true);
    public static readonly JumpBuilder JSGE32 = new(JumpOperation.JSGE, true);
    public static readonly JumpBuilder JSLT32 = new(JumpOperation.JSLT, true);
    public static readonly JumpBuilder JSLE32 = new(JumpOperation.JSLE, true);
    public static readonly JumpBuilder JSet32 = new(JumpOperation.JSet, true);

    /// <summary>dst = -dst (64-bit).</summary>
    public static Instruction Neg(Register dst) => new((byte)((byte)AluOperation.Neg | (byte)InstructionClass.Alu64), dst, 0, 0, 0);

    /// <summary>dst = -dst (32-bit).</summary>
    public static Instruction Neg32(Register dst) => new((byte)((byte)AluOperation.Neg | (byte)InstructionClass.Alu), dst, 0, 0, 0);

    /// <summary>dst = (s8/s16/s32) src, sign-extending move (cpu v4); <paramref name="bits"/> is 8, 16 or 32.</summary>
    public static Instruction MovSx(Register dst, Register src, short bits) =>
        new((byte)((byte)AluOperation.Mov | (byte)Source.Reg | (byte)InstructionClass.Alu64), dst, src, bits, 0);

    /// <summary>Signed division dst s/= src (cpu v4: off = 1).</summary>
    public static Instruction SDiv(Register dst, Register src) =>
        new((byte)((byte)AluOperation.Div | (byte)Source.Reg | (byte)InstructionClass.Alu64), dst, src, 1, 0);

    /// <summary>Signed modulo dst s%= src (cpu v4: off = 1).</summary>
    public static Instruction SMod(Register dst, Register src) =>
        new((byte)((byte)AluOperation.Mod | (byte)Source.Reg | (byte)InstructionClass.Alu64), dst, src, 1, 0);

    /// <summary>dst = htole{bits}(dst) (BPF_ALU|BPF_END|BPF_TO_LE).</summary>
    public static Instruction ToLittleEndian(Register dst, int bits) => new((byte)((byte)AluOperation.End | (byte)InstructionClass.Alu), dst, 0, 0, bits);

    /// <summary>dst = htobe{bits}(dst) (BPF_ALU|BPF_END|BPF_TO_BE).</summary>
    public static Instruction ToBigEndian(Register dst, int bits) => new((byte)((byte)AluOperation.End | (byte)Source.Reg | (byte)InstructionClass.Alu), dst, 0, 0, bits);

    /// <summary>dst = bswap{bits}(dst) unconditionally (BPF_ALU64|BPF_END, cpu v4).</summary>
    public static Instruction ByteSwap(Register dst, int bits) => new((byte)((byte)AluOperation.End | (byte)InstructionClass.Alu64), dst, 0, 0, bits);

    /// <summary>goto label.</summary>
    public static Instruction Ja(string label) => new Instruction((byte)InstructionClass.Jmp, 0, 0, 0, 0).WithReference(label);

    /// <summary>goto pc+offset+1.</summary>
    public static Instruction Ja(short offset) => new((byte)InstructionClass.Jmp, 0, 0, offset, 0);

    /// <summary>goto label with a 32-bit offset in imm (BPF_JMP32|BPF_JA, cpu v4).</summary>
    public static Instruction Ja32(string label) => new Instruction((byte)InstructionClass.Jmp32, 0, 0, 0, 0).WithReference(label);

    /// <summary>call helper.</summary>
    public static Instruction Call(BpfHelper helper) => new((byte)((byte)JumpOperation.Call | (byte)InstructionClass.Jmp), 0, 0, 0, (int)helper);

    /// <summary>call helper by number.</summary>
    public static Instruction Call(int helperId) => new((byte)((byte)JumpOperation.Call | (byte)InstructionClass.Jmp), 0, 0, 0, helperId);

    /// <summary>bpf-to-bpf call of the function (subprogram) whose first instruction carries <paramref name="function"/> as Symbol.</summary>
    public static Instruction CallFunction(string function) =>
        new Instruction((byte)((byte)JumpOperation.Call | (byte)InstructionClass.Jmp), 0, (Register)Pseudo.Call, 0, -1).WithReference(function);

    /// <summary>kfunc call by BTF id (btfObjFdIndex 0 = vmlinux).</summary>
    public static Instruction CallKfunc(int btfId, short btfObjFdIndex = 0) =>
        new((byte)((byte)JumpOperation.Call | (byte)InstructionClass.Jmp), 0, (Register)Pseudo.KfuncCall, btfObjFdIndex, btfId);

    public static Instruction Exit() => new((byte)((byte)JumpOperation.Exit | (byte)InstructionClass.Jmp), 0, 0, 0, 0);

    /// <summary>dst = imm64 (two slots).</summary>
    public static Instruction LoadImm64(Register dst, long value) => new(OpCode.LdImm64, dst, 0, 0, value);

    /// <summary>dst = map pointer for a map fd (BPF_PSEUDO_MAP_FD).</summary>
    public static Instruction LoadMapPtr(Register dst, int mapFd) => new(OpCode.LdImm64, dst, (Register)Pseudo.MapFd, 0, mapFd);

    /// <summary>dst = map pointer of a named map, resolved when the program is loaded with its collection.</summary>
    public static Instruction LoadMapPtr(Register dst, string map) => LoadMapPtr(dst, 0).WithReference(map);

    /// <summary>dst = &amp;value[offset] of an array map with one entry (BPF_PSEUDO_MAP_VALUE; global data).</summary>
    public static Instruction LoadMapValue(Register dst, int mapFd, uint offset) =>
        new(OpCode.LdImm64, dst, (Register)Pseudo.MapValue, 0, (long)((ulong)(uint)mapFd | ((ulong)offset << 32)));

    /// <summary>dst = address of a kernel variable by BTF id (BPF_PSEUDO_BTF_ID).</summary>
    public static Instruction LoadBtfId(Register dst, int btfId) => new(OpCode.LdImm64, dst, (Register)Pseudo.BtfId, 0, btfId);

    /// <summary>dst = address of a function (BPF_PSEUDO_FUNC, callbacks for bpf_loop and friends).</summary>
    public static Instruction LoadFunction(Register dst, string function) =>
        new Instruction(OpCode.LdImm64, dst, (Register)Pseudo.Func, 0, -1).WithReference(function);

    /// <summary>dst = *(size *)(src + offset).</summary>
    public static Instruction LoadMem(Register dst, Register src, short offset, Size size) =>
        new((byte)((byte)InstructionClass.Ldx | (byte)Mode.Mem | (byte)size), dst, src, offset, 0);

    /// <summary>dst = *(signed size *)(src + offset), sign-extended (cpu v4).</summary>
    public static Instruction LoadMemSx(Register dst, Register src, short offset, Size size) =>
        new((byte)((byte)InstructionClass.Ldx | (byte)Mode.MemSx | (byte)size), dst, src, offset, 0);

    /// <summary>*(size *)(dst + offset) = src.</summary>
    public static Instruction StoreMem(Register dst, short offset, Register src, Size size) =>
        new((byte)((byte)InstructionClass.Stx | (byte)Mode.Mem | (byte)size), dst, src, offset, 0);

    /// <summary>*(size *)(dst + offset) = imm.</summary>
    public static Instruction StoreImm(Register dst, short offset, int value, Size size) =>
        new((byte)((byte)InstructionClass.St | (byte)Mode.Mem | (byte)size), dst, 0, offset, value);

    /// <summary>Atomic read-modify-write on *(size *)(dst + offset) with src (Word or DWord).</summary>
    public static Instruction Atomic(AtomicOperation operation, Register dst, short offset, Register src, Size size) =>
        new((byte)((byte)InstructionClass.Stx | (byte)Mode.Atomic | (byte)size), dst, src, offset, (int)operation);

    /// <summary>Legacy packet load: R0 = ntoh(*(size *)(skb->data + imm)) (BPF_LD|BPF_ABS).</summary>
    public static Instruction LoadAbs(int offset, Size size) =>
        new((byte)((byte)InstructionClass.Ld | (byte)Mode.Abs | (byte)size), 0, 0, 0, offset);

    /// <summary>Legacy packet load: R0 = ntoh(*(size *)(skb->data + src + imm)) (BPF_LD|BPF_IND).</summary>
    public static Instruction LoadInd(Register src, int offset, Size size) =>
        new((byte)((byte)InstructionClass.Ld | (byte)Mode.Ind | (byte)size), 0, src, 0, offset);

    /// <summary>Names the instruction as a label target.</summary>
    public static Instruction Label(this Instruction instruction, string label) => instruction.WithSymbol(label);
}
