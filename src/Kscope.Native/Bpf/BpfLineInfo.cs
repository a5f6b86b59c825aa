using System.Runtime.InteropServices;

namespace Kscope.Native.Bpf;

// struct bpf_line_info, include/uapi/linux/bpf.h: source line for an instruction (offsets into BTF strings).
[StructLayout(LayoutKind.Sequential)]
[KernelStruct("bpf_line_info")]
public struct BpfLineInfo
{
    public uint InsnOff;
    public uint FileNameOff;
    public uint LineOff;

    /// <summary>line &lt;&lt; 10 | column.</summary>
    public uint LineCol;

    /// <summary>Bits of <see cref="LineCol"/> that hold the column (BPF_LINE_INFO_LINE_COL: the low 10).</summary>
    public const int ColumnBits = 10;

    /// <summary>line_col from a line number and a column (the column cut to 10 bits, as the kernel reads it).</summary>
    public static uint Pack(uint line, uint column) => (line << ColumnBits) | (column & ((1u << ColumnBits) - 1));
}
