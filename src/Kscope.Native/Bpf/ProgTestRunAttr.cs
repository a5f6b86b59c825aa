using System.Runtime.InteropServices;

namespace Kscope.Native.Bpf;

// union bpf_attr, BPF_PROG_TEST_RUN member ("test"), include/uapi/linux/bpf.h.
// DataIn/DataOut/CtxIn/CtxOut are user-space pointers; Retval, DataSizeOut, CtxSizeOut, Duration are outputs.
[StructLayout(LayoutKind.Sequential)]
[KernelStruct("bpf_attr", Prefix = true)]
public struct ProgTestRunAttr
{
    [KernelField("test.prog_fd")] public uint ProgFd;
    [KernelField("test.retval")] public uint Retval;
    [KernelField("test.data_size_in")] public uint DataSizeIn;
    [KernelField("test.data_size_out")] public uint DataSizeOut;
    [KernelField("test.data_in")] public ulong DataIn;
    [KernelField("test.data_out")] public ulong DataOut;
    [KernelField("test.repeat")] public uint Repeat;

    /// <summary>Average nanoseconds per run.</summary>
    [KernelField("test.duration")] public uint Duration;

    [KernelField("test.ctx_size_in")] public uint CtxSizeIn;
    [KernelField("test.ctx_size_out")] public uint CtxSizeOut;
    [KernelField("test.ctx_in")] public ulong CtxIn;
    [KernelField("test.ctx_out")] public ulong CtxOut;
    [KernelField("test.flags")] public uint Flags;
    [KernelField("test.cpu")] public uint Cpu;
    [KernelField("test.batch_size")] public uint BatchSize;
}
