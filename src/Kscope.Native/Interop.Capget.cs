using System.Runtime.InteropServices;

namespace Kscope.Native;

// struct __user_cap_header_struct, include/uapi/linux/capability.h
[StructLayout(LayoutKind.Sequential)]
[KernelStruct("__user_cap_header_struct")]
public struct UserCapHeader
{
    /// <summary>_LINUX_CAPABILITY_VERSION_3: 64-bit sets as two <see cref="UserCapData"/> elements.</summary>
    public const uint Version3 = 0x20080522;

    public uint Version;

    public int Pid;
}

// struct __user_cap_data_struct, include/uapi/linux/capability.h (version 3 passes an array of two)
[StructLayout(LayoutKind.Sequential)]
[KernelStruct("__user_cap_data_struct")]
public struct UserCapData
{
    public uint Effective;

    public uint Permitted;

    public uint Inheritable;
}
