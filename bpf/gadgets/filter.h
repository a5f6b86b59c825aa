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
 *   filter_v1_cgroup the kernfs id of a cgroup v1 directory (v1 --cgroup): a process attached to it
 *                    later joins `pids`, one that moves to another cgroup of filter_v1_hierarchy leaves
 * The value of a `pids` entry is PID_TRACED, or PID_PENDING_EXEC for the shell kscope starts for
 * -- COMMAND until it execs the command: what the wrapper does before (the SIGCONT kscope sends it,
 * its PATH search) is kscope's doing, not the command's, and is not reported.
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
const volatile __u64 filter_v1_cgroup = 0;
const volatile __u32 filter_v1_hierarchy = 0;

#define PID_TRACED 1
#define PID_PENDING_EXEC 2

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);   /* tgid */
	__type(value, __u8);  /* PID_TRACED or PID_PENDING_EXEC */
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

/* PID_TRACED, PID_PENDING_EXEC, or 0: not in the set */
static __always_inline __u8 pid_state(__u32 tgid)
{
	__u8 *v = bpf_map_lookup_elem(&pids, &tgid);
	return v ? *v : 0;
}

/* PID_TRACED when the ids pass the filter, PID_PENDING_EXEC for the wrapper of -- COMMAND before its exec, 0 otherwise */
static __always_inline __u8 ids_match(__u32 tgid, __u32 tid, __u32 uid, __u64 cgroup_id)
{
	if (filter_tid && tid != filter_tid)
		return 0;
	if (filter_uid_on && uid != filter_uid)
		return 0;
	if (filter_cgroup && cgroup_id != filter_cgroup)
		return 0;
	return filter_pids ? pid_state(tgid) : PID_TRACED;
}

static __always_inline bool ids_allowed(__u32 tgid, __u32 tid, __u32 uid, __u64 cgroup_id)
{
	return ids_match(tgid, tid, uid, cgroup_id) == PID_TRACED;
}

/* the current task against the filter (cheap helpers only, for hot paths): as ids_match */
static __always_inline __u8 current_match(void)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 cgroup_id = filter_cgroup ? bpf_get_current_cgroup_id() : 0;
	__u8 state = ids_match(pid_tgid >> 32, (__u32)pid_tgid, (__u32)bpf_get_current_uid_gid(), cgroup_id);
	if (state && filter_comm_on) {
		char comm[TASK_COMM_LEN];
		bpf_get_current_comm(comm, sizeof(comm));
		if (!comm_matches(comm))
			return 0;
	}
	return state;
}

static __always_inline bool current_allowed(void)
{
	return current_match() == PID_TRACED;
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
	return filter_pids && pid_state(tgid) == PID_TRACED;
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
	__u32 ctgid = BPF_CORE_READ(child, tgid);
	if (ctgid == ptgid || pid_state(ptgid) != PID_TRACED)
		return 0; /* a new thread: its tgid is already in the set */
	__u8 traced = PID_TRACED;
	bpf_map_update_elem(&pids, &ctgid, &traced, BPF_ANY);
	return 0;
}

/* the wrapper of -- COMMAND has exec'd the command: from here on, it is the target */
SEC("raw_tracepoint/sched_process_exec")
int follow_exec(struct bpf_raw_tracepoint_args *ctx)
{
	if (!filter_pids)
		return 0;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u8 *v = bpf_map_lookup_elem(&pids, &tgid);
	if (v && *v == PID_PENDING_EXEC)
		*v = PID_TRACED;
	return 0;
}

/* cgroup_attach_task(struct cgroup *dst, const char *path, struct task_struct *task, bool threadgroup):
 * a process moved into the v1 cgroup of --cgroup joins the set; moved elsewhere in its hierarchy, it leaves */
SEC("raw_tracepoint/cgroup_attach_task")
int follow_cgroup(struct bpf_raw_tracepoint_args *ctx)
{
	if (!filter_v1_cgroup)
		return 0;
	struct cgroup *dst = (struct cgroup *)ctx->args[0];
	struct task_struct *task = (struct task_struct *)ctx->args[2];
	__u32 tgid = BPF_CORE_READ(task, tgid);
	if (BPF_CORE_READ(dst, kn, id) == filter_v1_cgroup) {
		__u8 traced = PID_TRACED;
		bpf_map_update_elem(&pids, &tgid, &traced, BPF_ANY);
	} else if ((__u32)BPF_CORE_READ(dst, root, hierarchy_id) == filter_v1_hierarchy) {
		bpf_map_delete_elem(&pids, &tgid);
	}
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
