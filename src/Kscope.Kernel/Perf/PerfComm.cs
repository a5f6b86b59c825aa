namespace Kscope.Kernel.Perf;

/// <summary>A decoded PERF_RECORD_COMM: a task's new name; <paramref name="IsExec"/> when it came from exec (PERF_RECORD_MISC_COMM_EXEC).</summary>
public readonly record struct PerfComm(int Pid, int Tid, string Comm, bool IsExec, ulong Time);
