/* SPDX-License-Identifier: GPL-2.0 */
/*
 * In-kernel target filters shared by every gadget. User space sets the .rodata values before
 * load (unused filters stay zero and cost one branch) and fills the `pids` map:
 *   filter_pids      the task's tgid must be a key of `pids` (--pid, --container, v1 --cgroup,
 *                    -- COMMAND); with follow_children, forked children of a member join the set
 *   filter_tid       the task's thread id (--tid)
 *   filter_uid       the task's uid (--uid), when filter_uid_on
 *   filter_comm      the task's comm, exact (--comm), when filter_comm_on
 *   filter_cgroup    the task's cgroup v2 id (--cgroup on the unified hierarchy)
 */
#ifndef KSCOPE_FILTER_H
#define KSCOPE_FILTER_H

#include "gadget.h"

const volatile __u8 filter_pids = 0;
const volatile __u8 follow_children = 0;
const volatile __u8 filter_uid_on = 0;
const volatile __u8 filter_comm_on = 0;
const volatile __u32 filter_tid = 0;
const volatile __u32 filter_uid = 0;
const volatile __u64 filter_cgroup = 0;
const volatile char filter_comm[TASK_COMM_LEN] = {};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);   /* tgid */
	__type(value, __u8);  /* 1 */
} pids SEC(".maps");

static __always_inline bool comm_matches(const char *comm)
{
#pragma unroll
	for (int i = 0; i < TASK_COMM_LEN; i++) {
		if (comm[i] != filter_comm[i])
			return false;
		if (comm[i] == 0)
			return true;
	}
	return true;
}

static __always_inline bool ids_allowed(__u32 tgid, __u32 tid, __u32 uid, __u64 cgroup_id)
{
	if (filter_tid && tid != filter_tid)
		return false;
	if (filter_uid_on && uid != filter_uid)
		return false;
	if (filter_cgroup && cgroup_id != filter_cgroup)
		return false;
	if (filter_pids && !bpf_map_lookup_elem(&pids, &tgid))
		return false;
	return true;
}

/* filter on the current task (cheap helpers only, for hot paths) */
static __always_inline bool current_allowed(void)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 cgroup_id = filter_cgroup ? bpf_get_current_cgroup_id() : 0;
	if (!ids_allowed(pid_tgid >> 32, (__u32)pid_tgid, (__u32)bpf_get_current_uid_gid(), cgroup_id))
		return false;
	if (filter_comm_on) {
		char comm[TASK_COMM_LEN];
		bpf_get_current_comm(comm, sizeof(comm));
		if (!comm_matches(comm))
			return false;
	}
	return true;
}

/* filter on any task (CO-RE reads; for events about a task other than the current one) */
static __always_inline bool task_allowed(struct task_struct *t)
{
	__u32 tgid = BPF_CORE_READ(t, tgid);
	__u32 tid = BPF_CORE_READ(t, pid);
	__u32 uid = filter_uid_on ? BPF_CORE_READ(t, cred, uid.val) : 0;
	__u64 cgroup_id = filter_cgroup ? task_cgroup_id(t) : 0;
	if (!ids_allowed(tgid, tid, uid, cgroup_id))
		return false;
	if (filter_comm_on) {
		char comm[TASK_COMM_LEN];
		bpf_core_read_str(comm, sizeof(comm), &t->comm);
		if (!comm_matches(comm))
			return false;
	}
	return true;
}

/* a tgid-only check, for events that name a pid (signal targets, OOM victims) */
static __always_inline bool tgid_in_set(__u32 tgid)
{
	return filter_pids && bpf_map_lookup_elem(&pids, &tgid);
}

/* follow children: a process forked by a member of the pid set joins it (-- COMMAND, --pid) */
SEC("raw_tracepoint/sched_process_fork")
int follow_fork(struct bpf_raw_tracepoint_args *ctx)
{
	if (!filter_pids || !follow_children)
		return 0;
	struct task_struct *parent = (struct task_struct *)ctx->args[0];
	struct task_struct *child = (struct task_struct *)ctx->args[1];
	__u32 ptgid = BPF_CORE_READ(parent, tgid);
	if (!bpf_map_lookup_elem(&pids, &ptgid))
		return 0;
	__u32 ctgid = BPF_CORE_READ(child, tgid);
	__u8 one = 1;
	bpf_map_update_elem(&pids, &ctgid, &one, BPF_ANY);
	return 0;
}

/* records the ring buffer had no room for (summed over CPUs by kscope and reported as lost) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

static __always_inline void count_lost(void)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&lost, &zero);
	if (n)
		(*n)++;
}

/* the one ring buffer every streaming gadget writes its records to */
#define DECLARE_EVENTS(size_kib)                                   \
	struct {                                                       \
		__uint(type, BPF_MAP_TYPE_RINGBUF);                        \
		__uint(max_entries, (size_kib) * 1024);                    \
	} events SEC(".maps")

#endif
