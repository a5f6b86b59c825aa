/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared definitions of kscope's built-in gadgets (kscope trace GADGET).
 *
 * Self-contained on purpose: no vmlinux.h and no kernel headers, so the objects are the same
 * whatever kernel builds them (CI rebuilds and compares). Kernel structs are declared with only
 * the members the gadgets read, marked preserve_access_index, and relocated by the loader (CO-RE)
 * against the running kernel's BTF. Only libbpf's build-time helper headers are used.
 */
#ifndef KSCOPE_GADGET_H
#define KSCOPE_GADGET_H

typedef unsigned char __u8;
typedef signed char __s8;
typedef unsigned short __u16;
typedef short __s16;
typedef unsigned int __u32;
typedef int __s32;
typedef unsigned long long __u64;
typedef long long __s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
typedef _Bool bool;
#define true 1
#define false 0
#define NULL ((void *)0)

/* include/uapi/linux/bpf.h */
enum {
	BPF_MAP_TYPE_HASH = 1,
	BPF_MAP_TYPE_ARRAY = 2,
	BPF_MAP_TYPE_PERCPU_ARRAY = 6,
	BPF_MAP_TYPE_STACK_TRACE = 7,
	BPF_MAP_TYPE_LRU_HASH = 9,
	BPF_MAP_TYPE_RINGBUF = 27,
};
#define BPF_ANY 0
#define BPF_NOEXIST 1
#define BPF_F_USER_STACK (1ULL << 8)
#define BPF_F_FAST_STACK_CMP (1ULL << 9)

/* context of raw tracepoint programs (include/uapi/linux/bpf.h) */
struct bpf_raw_tracepoint_args {
	__u64 args[0];
};

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#define TASK_COMM_LEN 16
#define MAX_ENTRIES 10240
#define HIST_SLOTS 40 /* log2 buckets of nanoseconds: up to 2^40 ns (about 18 minutes) */
#define STACK_DEPTH 127

/* ---- kernel structs (CO-RE: offsets come from the running kernel's BTF) ---- */

struct upid {
	int nr;
} __attribute__((preserve_access_index));

struct pid {
	unsigned int level;
	struct upid numbers[1];
} __attribute__((preserve_access_index));

typedef struct { unsigned int val; } kuid_t;

struct cred {
	kuid_t uid;
} __attribute__((preserve_access_index));

struct kernfs_node {
	__u64 id;
} __attribute__((preserve_access_index));

struct cgroup_root {
	int hierarchy_id;
} __attribute__((preserve_access_index));

struct cgroup {
	struct kernfs_node *kn;
	struct cgroup_root *root;
} __attribute__((preserve_access_index));

struct css_set {
	struct cgroup *dfl_cgrp;
} __attribute__((preserve_access_index));

struct file {
	void *private_data;
} __attribute__((preserve_access_index));

struct fdtable {
	unsigned int max_fds;
	struct file **fd;
} __attribute__((preserve_access_index));

struct files_struct {
	struct fdtable *fdt;
} __attribute__((preserve_access_index));

struct signal_struct {
	int group_exit_code;
} __attribute__((preserve_access_index));

struct task_struct {
	unsigned int __state;
	int pid;
	int tgid;
	struct task_struct *real_parent;
	struct task_struct *group_leader;
	struct pid *thread_pid;
	const struct cred *cred;
	struct css_set *cgroups;
	struct files_struct *files;
	struct signal_struct *signal;
	char comm[TASK_COMM_LEN];
} __attribute__((preserve_access_index));

/* kernels before 5.14 call __state "state" (a long) */
struct task_struct___pre514 {
	long state;
} __attribute__((preserve_access_index));

/* ---- the record header every streamed event starts with (48 bytes, little endian) ---- */

struct event_header {
	__u64 ts_ns;     /* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	__u64 cgroup_id; /* cgroup v2 id of the task */
	__u32 tgid;      /* host pid */
	__u32 tid;       /* host thread id */
	__u32 uid;
	__u32 ns_tgid;   /* pid in the task's own pid namespace */
	char comm[TASK_COMM_LEN];
};

static __always_inline __u32 task_state(struct task_struct *t)
{
	if (bpf_core_field_exists(t->__state))
		return BPF_CORE_READ(t, __state);
	struct task_struct___pre514 *old = (void *)t;
	return (__u32)BPF_CORE_READ(old, state);
}

static __always_inline __u32 task_ns_tgid(struct task_struct *t)
{
	struct pid *p = BPF_CORE_READ(t, group_leader, thread_pid);
	unsigned int level = BPF_CORE_READ(p, level);
	int nr = 0;
	bpf_core_read(&nr, sizeof(nr), &p->numbers[level & 31].nr);
	return nr;
}

static __always_inline __u64 task_cgroup_id(struct task_struct *t)
{
	return BPF_CORE_READ(t, cgroups, dfl_cgrp, kn, id);
}

static __always_inline void fill_header(struct event_header *h)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	h->ts_ns = bpf_ktime_get_ns();
	h->cgroup_id = bpf_get_current_cgroup_id();
	h->tgid = pid_tgid >> 32;
	h->tid = (__u32)pid_tgid;
	h->uid = (__u32)bpf_get_current_uid_gid();
	h->ns_tgid = task_ns_tgid(t);
	bpf_get_current_comm(h->comm, sizeof(h->comm));
}

static __always_inline void fill_header_task(struct event_header *h, struct task_struct *t)
{
	h->ts_ns = bpf_ktime_get_ns();
	h->cgroup_id = task_cgroup_id(t);
	h->tgid = BPF_CORE_READ(t, tgid);
	h->tid = BPF_CORE_READ(t, pid);
	h->uid = BPF_CORE_READ(t, cred, uid.val);
	h->ns_tgid = task_ns_tgid(t);
	bpf_core_read_str(h->comm, sizeof(h->comm), &t->comm);
}

/* Keeps struct `name` in the object's BTF (a typed global nothing reads): kscope's C# mirror of a
 * record is checked against it in a test, so a layout change here fails CI, not a trace. */
#define KEEP_RECORD(name) const volatile struct name *const keep_##name = 0

/* log2 bucket of a value (0 -> 0), capped to HIST_SLOTS - 1 */
static __always_inline __u32 log2_slot(__u64 v)
{
	__u32 r = 0;
	if (v >> 32) { v >>= 32; r += 32; }
	if (v >> 16) { v >>= 16; r += 16; }
	if (v >> 8) { v >>= 8; r += 8; }
	if (v >> 4) { v >>= 4; r += 4; }
	if (v >> 2) { v >>= 2; r += 2; }
	if (v >> 1) { r += 1; }
	return r >= HIST_SLOTS ? HIST_SLOTS - 1 : r;
}

/* tracepoint contexts of syscalls:sys_enter_* / sys_exit_* (kernel/trace/trace_syscalls.c: fixed layout) */
struct syscall_enter_ctx {
	__u64 common;
	__s32 nr;
	__u32 pad;
	__u64 args[6];
};

struct syscall_exit_ctx {
	__u64 common;
	__s32 nr;
	__u32 pad;
	__s64 ret;
};

/* raw_syscalls:sys_enter / sys_exit (include/trace/events/syscalls.h) */
struct raw_syscall_enter_ctx {
	__u64 common;
	__s64 id;
	__u64 args[6];
};

struct raw_syscall_exit_ctx {
	__u64 common;
	__s64 id;
	__s64 ret;
};

/* ---- syscalls through the raw tracepoints: sys_enter(struct pt_regs *regs, long id), sys_exit(regs, long ret) ----
 * Why not syscalls:sys_enter_X: those are perf events, and closing the last one of a tracepoint waits for RCU grace
 * periods under the kernel's event_mutex (perf_trace_destroy -> tracepoint_synchronize_unregister), one tracepoint
 * after the other: 20-50 ms each, most of a short `trace open -- CMD`. A raw tracepoint's BPF link releases at once.
 * Both fire on every syscall once enabled (the syscalls:* events are themselves probes on sys_enter/sys_exit that
 * test a bitmap of syscall numbers); here the program compares the number instead.
 * The user registers hold the arguments: x86-64 di, si, dx, r10, r8, r9 and orig_ax (the number); arm64 orig_x0,
 * regs[1..5] and syscallno. CO-RE picks the running kernel's layout (the other one's relocations are poisoned in
 * code the verifier never reaches). Syscall numbers differ by architecture: SYS_NR(x86_64, arm64). */
struct pt_regs___x86 {
	unsigned long di;
	unsigned long si;
	unsigned long dx;
	unsigned long r10;
	unsigned long r8;
	unsigned long r9;
	unsigned long orig_ax;
} __attribute__((preserve_access_index));

struct user_pt_regs___arm64 {
	__u64 regs[31];
} __attribute__((preserve_access_index));

struct pt_regs___arm64 {
	struct user_pt_regs___arm64 user_regs;
	__u64 orig_x0;
	__s32 syscallno;
} __attribute__((preserve_access_index));

static __always_inline bool kernel_is_x86(void)
{
	return bpf_core_field_exists(((struct pt_regs___x86 *)0)->orig_ax);
}

#define SYS_NR(x86_64, arm64) (kernel_is_x86() ? (x86_64) : (arm64))

/* argument n (0-5) of the syscall being entered */
static __always_inline __u64 syscall_arg(const void *regs, int n)
{
	if (kernel_is_x86()) {
		const struct pt_regs___x86 *r = regs;
		switch (n) {
		case 0: return BPF_CORE_READ(r, di);
		case 1: return BPF_CORE_READ(r, si);
		case 2: return BPF_CORE_READ(r, dx);
		case 3: return BPF_CORE_READ(r, r10);
		case 4: return BPF_CORE_READ(r, r8);
		default: return BPF_CORE_READ(r, r9);
		}
	}
	const struct pt_regs___arm64 *r = regs;
	if (n == 0)
		return BPF_CORE_READ(r, orig_x0);
	return BPF_CORE_READ(r, user_regs.regs[n & 7]);
}

/* 32-bit programs (x86 ia32, arm64 aarch32) number their syscalls differently (ia32's 11 is execve, x86-64's
 * munmap); the syscalls:* events skip them (trace_get_syscall_nr), and so does a gadget that asks this first */
struct thread_info___x86 {
	__u32 status; /* TS_COMPAT 0x0002: in a 32-bit syscall */
} __attribute__((preserve_access_index));

struct task_struct___x86 {
	struct thread_info___x86 thread_info;
} __attribute__((preserve_access_index));

struct thread_info___arm64 {
	unsigned long flags; /* TIF_32BIT, bit 22: an aarch32 task */
} __attribute__((preserve_access_index));

struct task_struct___arm64 {
	struct thread_info___arm64 thread_info;
} __attribute__((preserve_access_index));

static __always_inline bool syscall_is_native(void)
{
	void *t = (void *)bpf_get_current_task();
	if (kernel_is_x86())
		return !(BPF_CORE_READ((struct task_struct___x86 *)t, thread_info.status) & 0x0002);
	return !(BPF_CORE_READ((struct task_struct___arm64 *)t, thread_info.flags) & (1UL << 22));
}

/* the number of the syscall a sys_exit ends */
static __always_inline long syscall_nr(const void *regs)
{
	if (kernel_is_x86())
		return (long)BPF_CORE_READ((const struct pt_regs___x86 *)regs, orig_ax);
	return BPF_CORE_READ((const struct pt_regs___arm64 *)regs, syscallno);
}

char LICENSE[] SEC("license") = "GPL";

#endif
