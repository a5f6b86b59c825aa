using System.Buffers.Binary;

namespace Kscope.Kernel.Bpf.Asm;

/// <summary>
/// One eBPF instruction (struct bpf_insn, include/uapi/linux/bpf.h: u8 code, u8 dst:4 src:4, s16 off,
/// s32 imm), or the two-slot LD_IMM64 whose 64-bit constant spans both imm fields. Besides the
/// encoding it carries linker metadata: <see cref="Symbol"/> names this instruction (a label or a
/// function start), <see cref="Reference"/> names the target a jump, a bpf-to-bpf call or a map
/// load still has to be resolved to. Immutable; the With* methods return copies.
/// </summary>
public readonly record struct Instruction(byte OpCode, Register Dst, Register Src, short Offset, long Constant)
{
    /// <summary>Size of one slot in bytes.</summary>
    public const int SlotSize = 8;

    /// <summary>The label or function name defined at this instruction.</summary>
    public string? Symbol { get; init; }

    /// <summary>What this instruction refers to: a label (jumps), a function (calls), a map or a kernel symbol.</summary>
    public string? Reference { get; init; }

    /// <summary>Source line for diagnostics (from BTF line info), when known.</summary>
    public string? SourceLine { get; init; }

    public bool IsLoadImm64 => OpCode == Bpf.Asm.OpCode.LdImm64;

    /// <summary>Slots this instruction takes in the program: 2 for LD_IMM64, else 1.</summary>
    public int Slots => IsLoadImm64 ? 2 : 1;

    public InstructionClass Class => Bpf.Asm.OpCode.ClassOf(OpCode);

    public bool IsExit => OpCode == ((byte)InstructionClass.Jmp | (byte)JumpOperation.Exit);

    public bool IsCall => OpCode == ((byte)InstructionClass.Jmp | (byte)JumpOperation.Call);

    /// <summary>A call to a helper (src 0).</summary>
    public bool IsHelperCall => IsCall && (byte)Src == 0;

    /// <summary>A bpf-to-bpf call (src BPF_PSEUDO_CALL).</summary>
    public bool IsFunctionCall => IsCall && (byte)Src == Pseudo.Call;

    public bool IsKfuncCall => IsCall && (byte)Src == Pseudo.KfuncCall;

    /// <summary>LD_IMM64 of a function address (BPF_PSEUDO_FUNC), as for bpf_loop callbacks.</summary>
    public bool IsLoadFunction => IsLoadImm64 && (byte)Src == Pseudo.Func;

    /// <summary>A conditional or unconditional jump (not call or exit).</summary>
    public bool IsBranch => Bpf.Asm.OpCode.IsJump(OpCode) && Bpf.Asm.OpCode.JumpOf(OpCode) is not (JumpOperation.Call or JumpOperation.Exit);

    public Instruction WithSymbol(string? symbol) => this with { Symbol = symbol };

    public Instruction WithReference(string? reference) => this with { Reference = reference };

    /// <summary>Writes the 8 (or 16) little-endian bytes.</summary>
    public int Encode(Span<byte> destination)
    {
        destination[0] = OpCode;
        destination[1] = (byte)(((byte)Src << 4) | ((byte)Dst & 0x0f));
        BinaryPrimitives.WriteInt16LittleEndian(destination[2..], Offset);
        BinaryPrimitives.WriteInt32LittleEndian(destination[4..], (int)Constant);
        if (!IsLoadImm64)
        {
            return SlotSize;
        }
        destination.Slice(8, 8).Clear();
        BinaryPrimitives.WriteInt32LittleEndian(destination[12..], (int)(Constant >> 32));
        return 2 * SlotSize;
    }

    /// <summary>The encoded bytes.</summary>
    public byte[] Encode()
    {
        var bytes = new byte[Slots * SlotSize];
        Encode(bytes);
        return bytes;
    }

    /// <summary>Reads one instruction (two slots for LD_IMM64); returns slots consumed.</summary>
    public static int Decode(ReadOnlySpan<byte> source, out Instruction instruction)
    {
        if (source.Length < SlotSize)
        {
            throw new Formats.MalformedDataException("bpf", 0, $"truncated instruction: {source.Length} bytes left");
        }
        byte code = source[0];
        var dst = (Register)(source[1] & 0x0f);
        var src = (Register)(source[1] >> 4);
        short off = BinaryPrimitives.ReadInt16LittleEndian(source[2..]);
        long imm = BinaryPrimitives.ReadInt32LittleEndian(source[4..]);
        if (code != Bpf.Asm.OpCode.LdImm64)
        {
            instruction = new Instruction(code, dst, src, off, imm);
            return 1;
        }
        if (source.Length < 2 * SlotSize)
        {
            throw new Formats.MalformedDataException("bpf", 8, "truncated LD_IMM64: second slot missing");
        }
        long high = BinaryPrimitives.ReadInt32LittleEndian(source[12..]);
        instruction = new Instruction(code, dst, src, off, (long)((ulong)(uint)imm | ((ulong)high << 32)));
        return 2;
    }

    public override string ToString() => Disassembler.Format(this);
}
