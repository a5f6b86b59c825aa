namespace Kscope.Kernel.Bpf;

/// <summary>BPF_ANY, BPF_NOEXIST, BPF_EXIST, BPF_F_LOCK (include/uapi/linux/bpf.h).</summary>
public enum MapUpdateFlags : ulong
{
    Any = 0,
    NoExist = 1,
    Exist = 2,
    Lock = 4,
}
