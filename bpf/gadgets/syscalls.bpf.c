/* SPDX-License-Identifier: GPL-2.0 */
/*
 * syscalls: per-syscall count, errors and latency histogram of the targets, aggregated in the
 * kernel (map `stats`), and every call slower than slow_ns streamed with its arguments.
 */
#include "common.h"

const volatile __u64 slow_ns = 10000000; /* stream calls at least this slow (10 ms) */

/* value of map `stats`, key: syscall number (kscope: SyscallStats) */
struct syscall_stats {
	__u64 count;
	__u64 errors;
	__u64 total_ns;
	__u64 max_ns;
	__u64 slots[HIST_SLOTS]; /* log2(latency ns) */
};

/* record of ring buffer `events` (kscope: SlowSyscallRecord) */
struct slow_syscall_event {
	struct event_header h;
	__s64 id;
	__s64 ret;
	__u64 latency_ns;
	__u64 args[6];
};

struct syscall_start {
	__u64 ts;
	__s64 id;
	__u64 args[6];
	__u8 pending; /* made by the wrapper of -- COMMAND before its exec: counted only if the exec succeeds */
};

DECLARE_EVENTS(256);
KEEP_RECORD(slow_syscall_event);

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct syscall_stats);
} stats SEC(".maps");

/* A plain hash, not an LRU one: on the hot path of every syscall the LRU's list upkeep cost more
 * than the program itself. A syscall that never returns (exit, exit_group, a task killed while
 * blocked) leaves its entry behind: sched_process_exit deletes it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, __u32); /* tid */
	__type(value, struct syscall_start);
} starts SEC(".maps");

/* raw tracepoints, not the perf events raw_syscalls:sys_enter/sys_exit: gadget.h says why (detach without waiting).
 * Like raw_syscalls, every syscall counts, 32-bit ones too (under their own numbers). */
SEC("raw_tracepoint/sys_enter")
int sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	__u8 state = current_match();
	if (!state)
		return 0;
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct syscall_start s = {};
	s.pending = state == PID_PENDING_EXEC;
	s.ts = bpf_ktime_get_ns();
	s.id = (long)ctx->args[1];
	const void *regs = (const void *)ctx->args[0];
#pragma unroll
	for (int i = 0; i < 6; i++)
		s.args[i] = syscall_arg(regs, i);
	bpf_map_update_elem(&starts, &tid, &s, BPF_ANY);
	return 0;
}

SEC("raw_tracepoint/sys_exit")
int sys_exit(struct bpf_raw_tracepoint_args *ctx)
{
	long ret = (long)ctx->args[1];
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct syscall_start *s = bpf_map_lookup_elem(&starts, &tid);
	if (!s)
		return 0;
	if (s->pending && pid_state(bpf_get_current_pid_tgid() >> 32) != PID_TRACED)
		goto out;
	__u64 delta = bpf_ktime_get_ns() - s->ts;
	__u32 id = (__u32)s->id;
	struct syscall_stats zero = {};
	struct syscall_stats *st = lookup_or_init(&stats, &id, &zero);
	if (!st)
		goto out;
	account_latency_hist(st, delta);
	if (ret < 0 && ret > -4096)
		__sync_fetch_and_add(&st->errors, 1);
	if (delta >= slow_ns) {
		struct slow_syscall_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
		if (e) {
			fill_header(&e->h);
			e->id = s->id;
			e->ret = ret;
			e->latency_ns = delta;
#pragma unroll
			for (int i = 0; i < 6; i++)
				e->args[i] = s->args[i];
			bpf_ringbuf_submit(e, 0);
		} else {
			count_lost();
		}
	}
out:
	bpf_map_delete_elem(&starts, &tid);
	return 0;
}

SEC("raw_tracepoint/sched_process_exit")
int task_exit(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	bpf_map_delete_elem(&starts, &tid);
	return 0;
}
