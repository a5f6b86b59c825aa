/* SPDX-License-Identifier: GPL-2.0 */
/*
 * futex: contended futex waits of the targets (FUTEX_WAIT, WAIT_BITSET, LOCK_PI, LOCK_PI2 calls
 * that did not return EAGAIN at once), summed in the kernel by process, futex address and user
 * stack (map `totals`), with the largest number of threads seen waiting on the address at once.
 */
#include "maps_requests.h"

#define FUTEX_WAIT 0
#define FUTEX_LOCK_PI 6
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAIT_REQUEUE_PI 11
#define FUTEX_LOCK_PI2 13
#define FUTEX_CMD_MASK 127
#define EAGAIN 11

/* key of map `totals` (kscope: FutexKey) */
struct futex_key {
	__u32 tgid;
	__s32 ustack; /* id in map `stacks`, negative: none */
	__u64 uaddr;
};

/* value of map `totals` (kscope: FutexValue) */
struct futex_value {
	__u64 count;
	__u64 total_ns;
	__u64 max_ns;
	__u64 max_waiters;
	__u64 timeouts; /* ETIMEDOUT or EINTR */
	char comm[TASK_COMM_LEN];
};

struct waiters_key {
	__u32 tgid;
	__u32 pad;
	__u64 uaddr;
};

struct futex_start {
	__u64 ts;
	__u64 uaddr;
	__u64 waiters;
	__s32 ustack;
	__u32 pad;
};

DECLARE_STACKS();

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, __u32); /* tid */
	__type(value, struct futex_start);
} starts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, struct waiters_key);
	__type(value, __s64);
} waiters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, struct futex_key);
	__type(value, struct futex_value);
} totals SEC(".maps");

#define NR_FUTEX SYS_NR(202, 98)

/* raw tracepoints, not syscalls:sys_enter_futex: gadget.h says why (detach without waiting) */
SEC("raw_tracepoint/sys_enter")
int futex_enter(struct bpf_raw_tracepoint_args *ctx)
{
	if ((long)ctx->args[1] != NR_FUTEX || !syscall_is_native())
		return 0;
	const void *regs = (const void *)ctx->args[0];
	__u64 uaddr = syscall_arg(regs, 0);
	int cmd = (int)syscall_arg(regs, 1) & FUTEX_CMD_MASK;
	if (cmd != FUTEX_WAIT && cmd != FUTEX_WAIT_BITSET && cmd != FUTEX_LOCK_PI && cmd != FUTEX_LOCK_PI2 &&
	    cmd != FUTEX_WAIT_REQUEUE_PI)
		return 0;
	if (!current_allowed())
		return 0;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct waiters_key wk = { .tgid = pid_tgid >> 32, .uaddr = uaddr };
	__s64 zero = 0;
	__s64 *n = lookup_or_init(&waiters, &wk, &zero);
	if (!n)
		return 0;
	struct futex_start s = {};
	/* A plain atomic add and a read, not a fetch-add: BPF_FETCH needs 5.12 (5.10 rejects the
	 * program with "BPF_STX uses reserved fields"); a racing waiter may make the count one high. */
	__sync_fetch_and_add(n, 1);
	s.waiters = *n;
	s.ts = bpf_ktime_get_ns();
	s.uaddr = uaddr;
	s.ustack = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
	bpf_map_update_elem(&starts, &tid, &s, BPF_ANY);
	if (s.ustack >= 0)
		request_maps(wk.tgid);
	return 0;
}

SEC("raw_tracepoint/sys_exit")
int futex_exit(struct bpf_raw_tracepoint_args *ctx)
{
	if (syscall_nr((const void *)ctx->args[0]) != NR_FUTEX || !syscall_is_native())
		return 0;
	long ret = (long)ctx->args[1];
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct futex_start *s = bpf_map_lookup_elem(&starts, &tid);
	if (!s)
		return 0;
	__u64 delta = bpf_ktime_get_ns() - s->ts;
	struct waiters_key wk = { .tgid = pid_tgid >> 32, .uaddr = s->uaddr };
	__s64 *n = bpf_map_lookup_elem(&waiters, &wk);
	if (n)
		__sync_fetch_and_add(n, -1);
	if (ret != -EAGAIN) {
		struct futex_key key = { .tgid = pid_tgid >> 32, .ustack = s->ustack, .uaddr = s->uaddr };
		struct futex_value *v = bpf_map_lookup_elem(&totals, &key);
		if (!v) {
			struct futex_value zero = {};
			bpf_get_current_comm(zero.comm, sizeof(zero.comm));
			v = lookup_or_init(&totals, &key, &zero);
		}
		if (v) {
			account_latency(v, delta);
			if (s->waiters > v->max_waiters)
				v->max_waiters = s->waiters;
			if (ret == -110 || ret == -4)
				__sync_fetch_and_add(&v->timeouts, 1);
		}
	}
	bpf_map_delete_elem(&starts, &tid);
	return 0;
}
