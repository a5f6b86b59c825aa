using System.Runtime.InteropServices;
using Kscope.Native;

namespace Kscope.Diagnostics.Trace;

/// <summary>struct event_header (bpf/gadgets/gadget.h), the 48 bytes every streamed gadget record starts with.</summary>
[KernelStruct("event_header")]
[StructLayout(LayoutKind.Sequential)]
public unsafe struct EventHeaderMirror
{
    public ulong TsNs;
    public ulong CgroupId;
    public uint Tgid;
    public uint Tid;
    public uint Uid;
    public uint NsTgid;
    public fixed byte Comm[16];
}
