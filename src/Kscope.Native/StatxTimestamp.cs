using System.Runtime.InteropServices;

namespace Kscope.Native;

// struct statx_timestamp, include/uapi/linux/stat.h. Same 16 bytes as KernelTimespec but not the same struct: tv_nsec is
// a __u32 followed by __s32 __reserved here, a long long there; each mirror is checked against its own BTF struct.
[StructLayout(LayoutKind.Sequential)]
[KernelStruct("statx_timestamp")]
public struct StatxTimestamp
{
    [KernelField("tv_sec")] public long Seconds;
    [KernelField("tv_nsec")] public uint Nanoseconds;
    [KernelField("__reserved")] public int Reserved;
}
