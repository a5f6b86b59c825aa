using System.Runtime.InteropServices;
using Kscope.Native;

namespace Kscope.Kernel.Host.Probes;

// struct io_uring_params, include/uapi/linux/io_uring.h (120 bytes; the two ring offset structs kept opaque).
[StructLayout(LayoutKind.Sequential)]
[KernelStruct("io_uring_params")]
internal unsafe struct IoUringParamsProbe
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
