using System.Runtime.InteropServices;

namespace Kscope.Native.Perf;

// struct perf_event_header, include/uapi/linux/perf_event.h: prefix of every record in a perf ring.
[StructLayout(LayoutKind.Sequential)]
[KernelStruct("perf_event_header")]
public struct PerfEventHeader
{
    /// <summary>PERF_RECORD_SAMPLE (9), PERF_RECORD_LOST (2), …</summary>
    public uint Type;
    public ushort Misc;

    /// <summary>Whole record size in bytes, header included.</summary>
    public ushort Size;
}
