/* SPDX-License-Identifier: GPL-2.0 */
/*
 * offcpu: time the targets' threads spend blocked (switched out while not runnable), with kernel
 * and user stacks and the task that woke them, summed in the kernel (map `totals`). Blocks shorter
 * than min_block_ns are not counted; user space prints totals above its own threshold.
 */
#include "maps_requests.h"

const volatile __u64 min_block_ns = 1000;

/* key of map `totals` (kscope: OffCpuKey): what offcputime keys by, so that one sleep's stack is
 * one row whoever woke it */
struct offcpu_key {
	__u32 tgid;
	__u32 tid;
	__s32 kstack; /* id in map `stacks`, negative: none */
	__s32 ustack;
	char comm[TASK_COMM_LEN];
};

/* value of map `totals` (kscope: OffCpuValue); the waker is the one of the longest block */
struct offcpu_value {
	__u64 total_ns;
	__u64 count;
	__u64 max_ns;
	__u32 waker_tgid; /* 0: unknown (woken by an interrupt or before tracing began) */
	__u32 waker_tid;
	char waker_comm[TASK_COMM_LEN];
};

struct offcpu_start {
	__u64 ts;
	__u32 tgid;
	__s32 kstack;
	__s32 ustack;
	__u32 pad;
	char comm[TASK_COMM_LEN];
};

struct waker {
	__u32 tgid;
	__u32 tid;
	char comm[TASK_COMM_LEN];
};

/* sched:sched_switch (include/trace/events/sched.h; same layout since 4.x) */
struct sched_switch_ctx {
	__u64 common;
	char prev_comm[TASK_COMM_LEN];
	__s32 prev_pid;
	__s32 prev_prio;
	__s64 prev_state;
	char next_comm[TASK_COMM_LEN];
	__s32 next_pid;
	__s32 next_prio;
};

/* sched:sched_wakeup */
struct sched_wakeup_ctx {
	__u64 common;
	char comm[TASK_COMM_LEN];
	__s32 pid;
	__s32 prio;
	__s32 target_cpu;
};

DECLARE_STACKS();

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, __u32); /* tid */
	__type(value, struct offcpu_start);
} starts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, __u32); /* tid of the woken task */
	__type(value, struct waker);
} wakers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, struct offcpu_key);
	__type(value, struct offcpu_value);
} totals SEC(".maps");

/* prev_state as the tracepoint reports it: TASK_REPORT bits, 0x100 (TASK_REPORT_MAX) when preempted */
static __always_inline bool blocked(__s64 state)
{
	return (state & 0x7f) != 0 && !(state & 0x100);
}

SEC("tracepoint/sched/sched_switch")
int offcpu_switch(struct sched_switch_ctx *ctx)
{
	__u64 now = bpf_ktime_get_ns();
	/* the previous task is the current one here */
	if (blocked(ctx->prev_state) && ctx->prev_pid != 0 && current_allowed()) {
		struct offcpu_start s = {};
		__u32 tid = ctx->prev_pid;
		s.ts = now;
		s.tgid = bpf_get_current_pid_tgid() >> 32;
		s.kstack = bpf_get_stackid(ctx, &stacks, 0);
		s.ustack = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
		__builtin_memcpy(s.comm, ctx->prev_comm, sizeof(s.comm));
		bpf_map_update_elem(&starts, &tid, &s, BPF_ANY);
		if (s.ustack >= 0)
			request_maps(s.tgid);
	}
	__u32 next = ctx->next_pid;
	struct offcpu_start *s = bpf_map_lookup_elem(&starts, &next);
	if (!s)
		return 0;
	__u64 delta = now - s->ts;
	if (delta >= min_block_ns) {
		struct offcpu_key key = {};
		key.tgid = s->tgid;
		key.tid = next;
		key.kstack = s->kstack;
		key.ustack = s->ustack;
		__builtin_memcpy(key.comm, s->comm, sizeof(key.comm));
		struct offcpu_value zero = {};
		struct offcpu_value *v = lookup_or_init(&totals, &key, &zero);
		if (v) {
			bool longest = delta > v->max_ns;
			account_latency(v, delta);
			if (longest) {
				struct waker *w = bpf_map_lookup_elem(&wakers, &next);
				if (w) {
					v->waker_tgid = w->tgid;
					v->waker_tid = w->tid;
					__builtin_memcpy(v->waker_comm, w->comm, sizeof(v->waker_comm));
				} else {
					v->waker_tgid = 0;
					v->waker_tid = 0;
				}
			}
		}
	}
	bpf_map_delete_elem(&starts, &next);
	bpf_map_delete_elem(&wakers, &next);
	return 0;
}

static __always_inline int on_wakeup(struct sched_wakeup_ctx *ctx)
{
	__u32 tid = ctx->pid;
	if (!bpf_map_lookup_elem(&starts, &tid))
		return 0;
	struct waker w = {};
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	w.tgid = pid_tgid >> 32;
	w.tid = (__u32)pid_tgid;
	bpf_get_current_comm(w.comm, sizeof(w.comm));
	bpf_map_update_elem(&wakers, &tid, &w, BPF_ANY);
	return 0;
}

SEC("tracepoint/sched/sched_wakeup")
int offcpu_wakeup(struct sched_wakeup_ctx *ctx)
{
	return on_wakeup(ctx);
}
