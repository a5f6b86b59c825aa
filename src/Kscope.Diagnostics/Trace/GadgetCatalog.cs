namespace Kscope.Diagnostics.Trace;

/// <summary>The built-in gadgets of <c>kscope trace</c>, and what each needs from the kernel.</summary>
public static class GadgetCatalog
{
    private const string Fork = "raw_tracepoint:sched_process_fork";

    public static IReadOnlyList<Gadget> All { get; } =
    [
        new("exec", "process executions: pid, parent, uid, filename, argv, result", GadgetKind.Stream,
            ["tracepoint:syscalls/sys_enter_execve", "tracepoint:syscalls/sys_exit_execve", "map:ringbuf", Fork],
            ["pid", "ppid", "uid", "comm", "result", "filename", "args"], "exec") { Optional = ["syscalls/sys_enter_execveat", "syscalls/sys_exit_execveat"] },
        new("open", "file opens: path, flags, fd or errno, latency", GadgetKind.Stream,
            ["tracepoint:syscalls/sys_enter_openat", "tracepoint:syscalls/sys_exit_openat", "map:ringbuf", Fork],
            ["pid", "comm", "fd", "error", "latency_ns", "flags", "path"], "open") { Optional = ["syscalls/sys_enter_openat2", "syscalls/sys_exit_openat2"] },
        new("syscalls", "per-syscall counts, errors and latency histograms; calls slower than --slow with arguments", GadgetKind.Aggregate,
            ["tracepoint:raw_syscalls/sys_enter", "tracepoint:raw_syscalls/sys_exit", "raw_tracepoint:sched_process_exit", "map:ringbuf", Fork],
            ["syscall", "count", "errors", "avg_ns", "p99_ns", "max_ns"], "syscalls") { StreamColumns = ["pid", "tid", "comm", "syscall", "latency_ns", "result", "error", "args"], EventsBytes = 8u << 20 },
        new("offcpu", "time threads spend blocked, by kernel and user stack and waker (summed in the kernel)", GadgetKind.Aggregate,
            ["tracepoint:sched/sched_switch", "tracepoint:sched/sched_wakeup", "map:stack_trace", Fork],
            ["pid", "tid", "comm", "total_ns", "count", "max_ns", "waker_comm"], "offcpu"),
        new("futex", "contended futex waits by address and user stack, with waiter counts", GadgetKind.Aggregate,
            ["tracepoint:syscalls/sys_enter_futex", "tracepoint:syscalls/sys_exit_futex", "map:stack_trace", Fork],
            ["pid", "comm", "address", "waits", "avg_ns", "max_ns", "max_waiters"], "futex"),
        new("runqlat", "run-queue latency (runnable to running) histogram per process; waits longer than --slow", GadgetKind.Aggregate,
            ["raw_tracepoint:sched_switch", "raw_tracepoint:sched_wakeup", "raw_tracepoint:sched_wakeup_new", "map:ringbuf", Fork],
            ["pid", "comm", "count", "avg_ns", "p99_ns", "max_ns"], "runqlat") { StreamColumns = ["pid", "tid", "comm", "wait_ns", "cpu", "prev_tid", "prev_comm"] },
        new("tcp", "TCP connects (latency, failures), accepts, listens, closes, state changes, retransmits", GadgetKind.Stream,
            ["tracepoint:sock/inet_sock_set_state", "tracepoint:tcp/tcp_retransmit_skb", "tracepoint:syscalls/sys_exit_accept4", "map:ringbuf", Fork],
            ["pid", "comm", "event", "saddr", "sport", "daddr", "dport", "new_state", "latency_ns"], "tcp"),
        new("oom", "OOM kills: victim, its memory, the cgroup and the task that triggered it", GadgetKind.Stream,
            ["tracepoint:oom/mark_victim", "map:ringbuf", Fork],
            ["victim_pid", "victim_comm", "anon_rss_kb", "file_rss_kb", "pid", "comm", "cgroup_id"], "oom"),
        new("signal", "signals sent and delivered: sender, target, signal, result", GadgetKind.Stream,
            ["tracepoint:signal/signal_generate", "tracepoint:signal/signal_deliver", "map:ringbuf", Fork],
            ["pid", "comm", "event", "signal", "target_tid", "target_comm", "result"], "signal"),
        new("cpu-throttle", "CFS bandwidth throttling of the target's cgroup: periods, throttled periods and time per interval (cpu.stat)", GadgetKind.Poll,
            ["cgroup:cpu.stat"],
            ["periods", "throttled", "throttled_pct", "throttled_ms", "cgroup"], null),
    ];

    public static Gadget? Find(string name) => All.FirstOrDefault(g => string.Equals(g.Name, name, StringComparison.Ordinal));

    /// <summary>Whether this kernel offers each need of <paramref name="gadget"/>: (need, present, how it was checked).</summary>
    public static IReadOnlyList<(string Need, bool? Present, string Detail)> Check(Gadget gadget) =>
        gadget.Needs.Select(n => Probe(n)).ToArray();

    private static (string, bool?, string) Probe(string need)
    {
        int colon = need.IndexOf(':', StringComparison.Ordinal);
        string kind = need[..colon], what = need[(colon + 1)..];
        switch (kind)
        {
            case "tracepoint":
                return Tracefs.EventExists(what) is bool present
                    ? (need, present, present ? "tracefs event present" : "no such tracefs event")
                    : (need, null, "tracefs not mounted and could not be mounted");
            case "raw_tracepoint":
                // raw tracepoints are the kernel's tracepoints by bare name; tracefs lists them under a category
                return Tracefs.AnyEventNamed(what) is bool raw
                    ? (need, raw, raw ? "tracepoint present" : "no such tracepoint")
                    : (need, null, "tracefs not mounted and could not be mounted");
            case "map":
                return (need, null, "map type probed at load");
            case "cgroup":
                bool any = Directory.Exists("/sys/fs/cgroup");
                return (need, any, any ? "cgroupfs mounted" : "/sys/fs/cgroup missing");
            default:
                return (need, null, "unknown need");
        }
    }
}
