using System.Runtime.InteropServices;

namespace Kscope.Native;

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
}
