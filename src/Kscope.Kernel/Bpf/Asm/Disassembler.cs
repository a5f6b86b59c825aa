using System.Text;

namespace Kscope.Kernel.Bpf.Asm;

/// <summary>
/// Text for instructions in the kernel verifier log's syntax (the one bpftool prints):
/// <c>r0 = 42</c>, <c>w1 += w2</c>, <c>if r1 == 0x0 goto pc+3</c>, <c>r1 = *(u32 *)(r2 +8)</c>,
/// <c>call bpf_map_lookup_elem#1</c>, <c>lock *(u64 *)(r1 +0) += r2</c>.
/// </summary>
public static class Disassembler
{
    public static string Format(Instruction i)
    {
        byte code = i.OpCode;
        switch (i.Class)
        {
            case InstructionClass.Alu:
            case InstructionClass.Alu64:
                return FormatAlu(i);
            case InstructionClass.Jmp:
            case InstructionClass.Jmp32:
                return FormatJump(i);
            case InstructionClass.Ldx:
                return $"{R(i.Dst)} = *({(OpCode.ModeOf(code) == Mode.MemSx ? "s" : "u")}{Bits(code)} *)({R(i.Src)} {Off(i.Offset)})";
            case InstructionClass.Stx when OpCode.ModeOf(code) == Mode.Atomic:
                return FormatAtomic(i);
            case InstructionClass.Stx:
                return $"*(u{Bits(code)} *)({R(i.Dst)} {Off(i.Offset)}) = {R(i.Src)}";
            case InstructionClass.St:
                return $"*(u{Bits(code)} *)({R(i.Dst)} {Off(i.Offset)}) = {i.Constant}";
            case InstructionClass.Ld when i.IsLoadImm64:
                return FormatLoadImm64(i);
            case InstructionClass.Ld when OpCode.ModeOf(code) == Mode.Abs:
                return $"r0 = *(u{Bits(code)} *)skb[{i.Constant}]";
            case InstructionClass.Ld when OpCode.ModeOf(code) == Mode.Ind:
                return $"r0 = *(u{Bits(code)} *)skb[{R(i.Src)} + {i.Constant}]";
            default:
                return $"(0x{code:x2}) invalid";
        }
    }

    /// <summary>A listing with slot numbers and label lines, as in a verifier log.</summary>
    public static string Format(IEnumerable<Instruction> instructions)
    {
        var sb = new StringBuilder();
        int slot = 0;
        foreach (Instruction i in instructions)
        {
            if (i.Symbol is { } s)
            {
                sb.Append(s).Append(":\n");
            }
            if (i.SourceLine is { } line)
            {
                sb.Append("; ").Append(line).Append('\n');
            }
            sb.Append(slot.ToString().PadLeft(4)).Append(": ").Append(Format(i));
            if (i.Reference is { } r && !i.IsBranch && !i.IsFunctionCall)
            {
                sb.Append("  <").Append(r).Append('>');
            }
            sb.Append('\n');
            slot += i.Slots;
        }
        return sb.ToString();
    }

    private static string FormatAlu(Instruction i)
    {
        bool wide = i.Class == InstructionClass.Alu64;
        string dst = wide ? R(i.Dst) : W(i.Dst);
        bool reg = OpCode.SourceOf(i.OpCode) == Source.Reg;
        string src = reg ? (wide ? R(i.Src) : W(i.Src)) : i.Constant.ToString();
        AluOperation op = OpCode.AluOf(i.OpCode);
        switch (op)
        {
            case AluOperation.Neg:
                return $"{dst} = -{dst}";
            case AluOperation.End:
                string kind = wide ? "bswap" : reg ? "be" : "le";
                return $"{R(i.Dst)} = {kind}{i.Constant} {R(i.Dst)}";
            case AluOperation.Mov when reg && i.Offset is 8 or 16 or 32:
                return $"{dst} = (s{i.Offset}){src}";
            case AluOperation.Mov:
                return $"{dst} = {src}";
            case AluOperation.Div or AluOperation.Mod when i.Offset == 1:
                return $"{dst} s{AluSymbol(op)} {src}";
            default:
                return $"{dst} {AluSymbol(op)} {src}";
        }
    }

    private static string FormatJump(Instruction i)
    {
        JumpOperation op = OpCode.JumpOf(i.OpCode);
        bool wide = i.Class == InstructionClass.Jmp;
        string target = i.Reference is { } r && i.Offset == 0 && i.Constant == 0 ? $"<{r}>" : $"pc{Off(i.Offset)}";
        switch (op)
        {
            case JumpOperation.Ja:
                return wide ? $"goto {target}" : $"gotol {(i.Reference is { } l && i.Constant == 0 ? $"<{l}>" : $"pc{Off(i.Constant)}")}";
            case JumpOperation.Exit:
                return "exit";
            case JumpOperation.Call:
                if (i.IsFunctionCall)
                {
                    return i.Reference is { } f && i.Constant == -1 ? $"call <{f}>" : $"call pc{Off(i.Constant)}";
                }
                if (i.IsKfuncCall)
                {
                    return $"call kernel-function#{i.Constant}";
                }
                return Enum.IsDefined((BpfHelper)i.Constant)
                    ? $"call bpf_{Snake(((BpfHelper)i.Constant).ToString())}#{i.Constant}"
                    : $"call #{i.Constant}";
        }
        string dst = wide ? R(i.Dst) : W(i.Dst);
        string src = OpCode.SourceOf(i.OpCode) == Source.Reg ? (wide ? R(i.Src) : W(i.Src)) : $"0x{i.Constant:x}";
        return $"if {dst} {JumpSymbol(op)} {src} goto {target}";
    }

    private static string FormatAtomic(Instruction i)
    {
        int bits = Bits(i.OpCode);
        string mem = $"(u{bits} *)({R(i.Dst)} {Off(i.Offset)})";
        string width = bits == 64 ? "64" : "";
        var op = (AtomicOperation)(int)i.Constant;
        string src = bits == 64 ? R(i.Src) : W(i.Src);
        return op switch
        {
            AtomicOperation.Add => $"lock *{mem} += {src}",
            AtomicOperation.Or => $"lock *{mem} |= {src}",
            AtomicOperation.And => $"lock *{mem} &= {src}",
            AtomicOperation.Xor => $"lock *{mem} ^= {src}",
            AtomicOperation.FetchAdd => $"{src} = atomic{width}_fetch_add({mem}, {src})",
            AtomicOperation.FetchOr => $"{src} = atomic{width}_fetch_or({mem}, {src})",
            AtomicOperation.FetchAnd => $"{src} = atomic{width}_fetch_and({mem}, {src})",
            AtomicOperation.FetchXor => $"{src} = atomic{width}_fetch_xor({mem}, {src})",
            AtomicOperation.Xchg => $"{src} = atomic{width}_xchg({mem}, {src})",
            AtomicOperation.CmpXchg => $"r0 = atomic{width}_cmpxchg({mem}, r0, {src})",
            _ => $"atomic 0x{i.Constant:x} {mem} {src}",
        };
    }

    private static string FormatLoadImm64(Instruction i) => (byte)i.Src switch
    {
        Pseudo.MapFd => $"{R(i.Dst)} = map[fd:{(int)i.Constant}]",
        Pseudo.MapValue => $"{R(i.Dst)} = map[fd:{(int)i.Constant}][0]+{(uint)(i.Constant >> 32)}",
        Pseudo.MapIdx => $"{R(i.Dst)} = map[idx:{(int)i.Constant}]",
        Pseudo.MapIdxValue => $"{R(i.Dst)} = map[idx:{(int)i.Constant}][0]+{(uint)(i.Constant >> 32)}",
        Pseudo.BtfId => $"{R(i.Dst)} = btf_id[{(int)i.Constant}]",
        Pseudo.Func => i.Reference is { } f && i.Constant == -1 ? $"{R(i.Dst)} = func <{f}>" : $"{R(i.Dst)} = func pc{Off(i.Constant)}",
        _ => $"{R(i.Dst)} = 0x{i.Constant:x} ll",
    };

    private static string AluSymbol(AluOperation op) => op switch
    {
        AluOperation.Add => "+=",
        AluOperation.Sub => "-=",
        AluOperation.Mul => "*=",
        AluOperation.Div => "/=",
        AluOperation.Or => "|=",
        AluOperation.And => "&=",
        AluOperation.LSh => "<<=",
        AluOperation.RSh => ">>=",
        AluOperation.Mod => "%=",
        AluOperation.Xor => "^=",
        AluOperation.ArSh => "s>>=",
        _ => "?=",
    };

    private static string JumpSymbol(JumpOperation op) => op switch
    {
        JumpOperation.JEq => "==",
        JumpOperation.JGT => ">",
        JumpOperation.JGE => ">=",
        JumpOperation.JSet => "&",
        JumpOperation.JNE => "!=",
        JumpOperation.JSGT => "s>",
        JumpOperation.JSGE => "s>=",
        JumpOperation.JLT => "<",
        JumpOperation.JLE => "<=",
        JumpOperation.JSLT => "s<",
        JumpOperation.JSLE => "s<=",
        _ => "?",
    };

    private static int Bits(byte code) => OpCode.SizeInBytes(OpCode.SizeOf(code)) * 8;

    private static string R(Register r) => $"r{(byte)r}";

    private static string W(Register r) => $"w{(byte)r}";

    private static string Off(long offset) => offset >= 0 ? $"+{offset}" : offset.ToString();

    internal static string Snake(string pascal)
    {
        var sb = new StringBuilder();
        for (int k = 0; k < pascal.Length; k++)
        {
            char c = pascal[k];
            if (char.IsUpper(c) && k > 0 && !char.IsUpper(pascal[k - 1]))
            {
                sb.Append('_');
            }
            sb.Append(char.ToLowerInvariant(c));
        }
        return sb.ToString();
    }
}
