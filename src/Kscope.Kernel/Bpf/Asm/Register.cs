namespace Kscope.Kernel.Bpf.Asm;

/// <summary>eBPF registers: R0 return value, R1-R5 arguments, R6-R9 callee-saved, R10 read-only frame pointer.</summary>
public enum Register : byte
{
    R0 = 0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10,

    /// <summary>The frame pointer (R10).</summary>
    RFP = R10,
}
