using System.Runtime.InteropServices;

namespace Kscope.Native.Bpf;

// union bpf_attr, BPF_PROG_LOAD member (anonymous struct), include/uapi/linux/bpf.h.
// Insns, License, LogBuf, FuncInfo, LineInfo, FdArray, CoreRelos are user-space pointers.
[StructLayout(LayoutKind.Explicit)]
[KernelStruct("bpf_attr", Prefix = true)]
public unsafe struct ProgLoadAttr
{
    [FieldOffset(0)] public uint ProgType;
    [FieldOffset(4)] public uint InsnCnt;
    [FieldOffset(8)] public ulong Insns;
    [FieldOffset(16)] public ulong License;
    [FieldOffset(24)] public uint LogLevel;
    [FieldOffset(28)] public uint LogSize;
    [FieldOffset(32)] public ulong LogBuf;
    [FieldOffset(40)] public uint KernVersion;
    [FieldOffset(44)] public uint ProgFlags;
    [FieldOffset(48)] public fixed byte ProgName[16];
    [FieldOffset(64)] public uint ProgIfindex;
    [FieldOffset(68)] public uint ExpectedAttachType;
    [FieldOffset(72)] public uint ProgBtfFd;
    [FieldOffset(76)] public uint FuncInfoRecSize;
    [FieldOffset(80)] public ulong FuncInfo;
    [FieldOffset(88)] public uint FuncInfoCnt;
    [FieldOffset(92)] public uint LineInfoRecSize;
    [FieldOffset(96)] public ulong LineInfo;
    [FieldOffset(104)] public uint LineInfoCnt;
    [FieldOffset(108)] public uint AttachBtfId;
    [FieldOffset(112)] public uint AttachProgFd;
    [FieldOffset(112)] public uint AttachBtfObjFd;
    [FieldOffset(116)] public uint CoreReloCnt;
    [FieldOffset(120)] public ulong FdArray;
    [FieldOffset(128)] public ulong CoreRelos;
    [FieldOffset(136)] public uint CoreReloRecSize;

    /// <summary>Written by the kernel (5.17+): the log size the whole log needed.</summary>
    [FieldOffset(140)] public uint LogTrueSize;

    public void SetName(ReadOnlySpan<char> name)
    {
        fixed (byte* p = ProgName)
        {
            ObjectName.Write(name, new Span<byte>(p, 16));
        }
    }
}
