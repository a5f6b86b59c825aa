namespace Kscope.Kernel.Bpf.Asm;

/// <summary>Instruction class, the low 3 bits of the opcode (include/uapi/linux/bpf_common.h, bpf.h).</summary>
public enum InstructionClass : byte
{
    Ld = 0x00, Ldx = 0x01, St = 0x02, Stx = 0x03, Alu = 0x04, Jmp = 0x05, Jmp32 = 0x06, Alu64 = 0x07,
}

/// <summary>ALU operation, opcode bits 4-7 (BPF_ADD … BPF_END).</summary>
public enum AluOperation : byte
{
    Add = 0x00, Sub = 0x10, Mul = 0x20, Div = 0x30, Or = 0x40, And = 0x50, LSh = 0x60, RSh = 0x70,
    Neg = 0x80, Mod = 0x90, Xor = 0xa0, Mov = 0xb0, ArSh = 0xc0, End = 0xd0,
}

/// <summary>Jump operation, opcode bits 4-7 (BPF_JA … BPF_JSLE).</summary>
public enum JumpOperation : byte
{
    Ja = 0x00, JEq = 0x10, JGT = 0x20, JGE = 0x30, JSet = 0x40, JNE = 0x50, JSGT = 0x60, JSGE = 0x70,
    Call = 0x80, Exit = 0x90, JLT = 0xa0, JLE = 0xb0, JSLT = 0xc0, JSLE = 0xd0,
}

/// <summary>Memory access size, opcode bits 3-4.</summary>
public enum Size : byte
{
    Word = 0x00, Half = 0x08, Byte = 0x10, DWord = 0x18,
}

/// <summary>Load/store mode, opcode bits 5-7.</summary>
public enum Mode : byte
{
    Imm = 0x00, Abs = 0x20, Ind = 0x40, Mem = 0x60, MemSx = 0x80, Atomic = 0xc0,
}

/// <summary>Operand source bit (0x08): an immediate (K) or a register (X). For BPF_END: to little/big endian.</summary>
public enum Source : byte
{
    Imm = 0x00, Reg = 0x08,
}

/// <summary>The imm field of BPF_ATOMIC instructions (include/uapi/linux/bpf.h).</summary>
public enum AtomicOperation : int
{
    Add = 0x00, Or = 0x40, And = 0x50, Xor = 0xa0,
    FetchAdd = 0x01, FetchOr = 0x41, FetchAnd = 0x51, FetchXor = 0xa1,
    Xchg = 0xe1, CmpXchg = 0xf1,
}

/// <summary>src_reg values that give LD_IMM64 and CALL their pseudo meanings (BPF_PSEUDO_*).</summary>
public static class Pseudo
{
    public const byte MapFd = 1;
    public const byte MapValue = 2;
    public const byte BtfId = 3;
    public const byte Func = 4;
    public const byte MapIdx = 5;
    public const byte MapIdxValue = 6;

    /// <summary>CALL src_reg: bpf-to-bpf call, imm is the relative instruction offset.</summary>
    public const byte Call = 1;

    /// <summary>CALL src_reg: kfunc call, imm is the BTF id.</summary>
    public const byte KfuncCall = 2;
}

/// <summary>Opcode helpers: composing and taking apart the 8-bit code.</summary>
public static class OpCode
{
    public const byte LdImm64 = (byte)InstructionClass.Ld | (byte)Size.DWord | (byte)Mode.Imm; // 0x18

    public static InstructionClass ClassOf(byte code) => (InstructionClass)(code & 0x07);

    public static bool IsAlu(byte code) => ClassOf(code) is InstructionClass.Alu or InstructionClass.Alu64;

    public static bool IsJump(byte code) => ClassOf(code) is InstructionClass.Jmp or InstructionClass.Jmp32;

    public static bool IsLoadStore(byte code) => ClassOf(code) is InstructionClass.Ld or InstructionClass.Ldx or InstructionClass.St or InstructionClass.Stx;

    public static AluOperation AluOf(byte code) => (AluOperation)(code & 0xf0);

    public static JumpOperation JumpOf(byte code) => (JumpOperation)(code & 0xf0);

    public static Source SourceOf(byte code) => (Source)(code & 0x08);

    public static Size SizeOf(byte code) => (Size)(code & 0x18);

    public static Mode ModeOf(byte code) => (Mode)(code & 0xe0);

    public static int SizeInBytes(Size size) => size switch { Size.Byte => 1, Size.Half => 2, Size.Word => 4, _ => 8 };
}
