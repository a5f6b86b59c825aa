using System.Runtime.InteropServices;
using Kscope.Native;

namespace Kscope.Diagnostics.Trace.Gadgets.Exec;

/// <summary>struct exec_event (bpf/gadgets/exec.bpf.c), 968 bytes.</summary>
[KernelStruct("exec_event")]
[StructLayout(LayoutKind.Sequential)]
public unsafe struct ExecEvent
{
    public EventHeaderMirror H;
    public uint Ppid;
    public int Retval;
    public uint ArgsCount;
    public uint ArgsSize;
    public byte ArgsTruncated;
    [KernelPadding]
    public fixed byte Pad[7];
    public fixed byte Filename[256];
    public fixed byte Args[640];
}
