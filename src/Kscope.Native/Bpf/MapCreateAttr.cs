using System.Runtime.InteropServices;

namespace Kscope.Native.Bpf;

// union bpf_attr, BPF_MAP_CREATE member (anonymous struct), include/uapi/linux/bpf.h
[StructLayout(LayoutKind.Sequential)]
[KernelStruct("bpf_attr", Prefix = true)]
public unsafe struct MapCreateAttr
{
    public uint MapType;
    public uint KeySize;
    public uint ValueSize;
    public uint MaxEntries;
    public uint MapFlags;
    public uint InnerMapFd;
    public uint NumaNode;
    public fixed byte MapName[16];
    public uint MapIfindex;
    public uint BtfFd;
    public uint BtfKeyTypeId;
    public uint BtfValueTypeId;
    public uint BtfVmlinuxValueTypeId;
    public ulong MapExtra;

    /// <summary>Copies up to 15 bytes of <paramref name="name"/> (the kernel wants a NUL-terminated [A-Za-z0-9_.]).</summary>
    public void SetName(ReadOnlySpan<char> name)
    {
        fixed (byte* p = MapName)
        {
            ObjectName.Write(name, new Span<byte>(p, 16));
        }
    }
}
