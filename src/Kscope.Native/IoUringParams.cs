using System.Runtime.InteropServices;

namespace Kscope.Native;

// struct io_uring_params, include/uapi/linux/io_uring.h (120 bytes; the two ring offset structs kept opaque:
// kscope only asks whether io_uring exists and which features it reports).
[StructLayout(LayoutKind.Sequential)]
[KernelStruct("io_uring_params")]
public unsafe struct IoUringParams
{
    public uint SqEntries;
    public uint CqEntries;
    public uint Flags;
    public uint SqThreadCpu;
    public uint SqThreadIdle;
    public uint Features;
    public uint WqFd;
    public fixed uint Resv[3];
    [KernelField("sq_off")]
    public fixed byte SqOff[40];
    [KernelField("cq_off")]
    public fixed byte CqOff[40];
}
