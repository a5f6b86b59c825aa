/* SPDX-License-Identifier: GPL-2.0 */
/*
 * runqlat: run-queue latency of the targets' threads (woken or preempted, until running again):
 * a log2 histogram per process in the kernel (map `hists`), and every wait of at least slow_ns
 * streamed with the task that was running instead.
 */
#include "common.h"

const volatile __u64 slow_ns = 10000000; /* stream waits at least this long (10 ms) */

/* value of map `hists`, key: tgid (kscope: RunqHistogram) */
struct runq_hist {
	__u64 count;
	__u64 total_ns;
	__u64 max_ns;
	__u64 slots[HIST_SLOTS]; /* log2(wait ns) */
	char comm[TASK_COMM_LEN];
};

/* record of ring buffer `events` (kscope: RunqRecord) */
struct runq_event {
	struct event_header h; /* the task that waited */
	__u64 wait_ns;
	__u32 prev_tid; /* the task that ran before it */
	__u32 cpu;
	char prev_comm[TASK_COMM_LEN];
};

DECLARE_EVENTS(256);
KEEP_RECORD(runq_event);

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, __u32); /* tid */
	__type(value, __u64); /* enqueue time */
} starts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct runq_hist);
} hists SEC(".maps");

static __always_inline void enqueued(struct task_struct *t)
{
	if (!task_allowed(t))
		return;
	__u32 tid = BPF_CORE_READ(t, pid);
	if (tid == 0)
		return;
	__u64 ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&starts, &tid, &ts, BPF_ANY);
}

SEC("raw_tracepoint/sched_wakeup")
int runq_wakeup(struct bpf_raw_tracepoint_args *ctx)
{
	enqueued((struct task_struct *)ctx->args[0]);
	return 0;
}

SEC("raw_tracepoint/sched_wakeup_new")
int runq_wakeup_new(struct bpf_raw_tracepoint_args *ctx)
{
	enqueued((struct task_struct *)ctx->args[0]);
	return 0;
}

/* sched_switch(bool preempt, struct task_struct *prev, struct task_struct *next, ...) */
SEC("raw_tracepoint/sched_switch")
int runq_switch(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *prev = (struct task_struct *)ctx->args[1];
	struct task_struct *next = (struct task_struct *)ctx->args[2];
	if (task_state(prev) == 0) /* TASK_RUNNING: preempted, back on the run queue */
		enqueued(prev);
	__u32 tid = BPF_CORE_READ(next, pid);
	__u64 *start = bpf_map_lookup_elem(&starts, &tid);
	if (!start)
		return 0;
	__u64 delta = bpf_ktime_get_ns() - *start;
	bpf_map_delete_elem(&starts, &tid);
	__u32 tgid = BPF_CORE_READ(next, tgid);
	struct runq_hist *hist = bpf_map_lookup_elem(&hists, &tgid);
	if (!hist) {
		struct runq_hist zero = {};
		struct task_struct *leader = BPF_CORE_READ(next, group_leader);
		bpf_core_read_str(zero.comm, sizeof(zero.comm), &leader->comm);
		hist = lookup_or_init(&hists, &tgid, &zero);
		if (!hist)
			return 0;
	}
	account_latency_hist(hist, delta);
	if (delta >= slow_ns) {
		struct runq_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
		if (e) {
			fill_header_task(&e->h, next);
			e->wait_ns = delta;
			e->prev_tid = BPF_CORE_READ(prev, pid);
			e->cpu = bpf_get_smp_processor_id();
			bpf_core_read_str(e->prev_comm, sizeof(e->prev_comm), &prev->comm);
			bpf_ringbuf_submit(e, 0);
		} else {
			count_lost();
		}
	}
	return 0;
}
