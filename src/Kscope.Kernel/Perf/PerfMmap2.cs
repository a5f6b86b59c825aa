namespace Kscope.Kernel.Perf;

/// <summary>
/// A decoded PERF_RECORD_MMAP2: an executable mapping made by <paramref name="Pid"/> (mmap, exec, dlopen).
/// <paramref name="BuildId"/> is set instead of the device/inode when the event asked for build ids
/// (attr.build_id, 5.12+). <paramref name="Time"/> comes from the sample_id trailer (0 without it).
/// </summary>
public readonly record struct PerfMmap2(int Pid, int Tid, ulong Address, ulong Length, ulong PageOffset,
    uint Major, uint Minor, ulong Inode, string? BuildId, uint Prot, uint Flags, string FileName, ulong Time);
