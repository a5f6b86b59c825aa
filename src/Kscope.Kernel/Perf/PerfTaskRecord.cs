namespace Kscope.Kernel.Perf;

/// <summary>
/// A decoded PERF_RECORD_FORK or PERF_RECORD_EXIT: struct { u32 pid, ppid; u32 tid, ptid; u64 time; }.
/// A new process has <c>Pid == Tid</c> and <c>Pid != ParentPid</c>; a new thread shares its parent's pid.
/// </summary>
public readonly record struct PerfTaskRecord(bool IsExit, int Pid, int ParentPid, int Tid, int ParentTid, ulong Time)
{
    public bool IsNewProcess => !IsExit && Pid != ParentPid;
}
