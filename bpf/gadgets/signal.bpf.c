/* SPDX-License-Identifier: GPL-2.0 */
/*
 * signal: signals generated (sent: sender in the header, the target named) and delivered (the
 * receiving task in the header) where the sender or the target is a target of the trace.
 * A fatal signal (no handler, a default action that ends the process) is reported fatal where it is
 * delivered; the kernel then kills the process's other threads with SIGKILL and for those the tracepoint
 * says SIGKILL: their deliveries are reported as the signal that was sent, fatal.
 * The SIGKILLs with which the kernel ends the other threads at exit_group() or exec are not signals
 * anyone sent and are not reported.
 */
#include "common.h"

enum signal_kind {
	SIGNAL_KIND_GENERATE = 1,
	SIGNAL_KIND_DELIVER = 2,
};

/* record of ring buffer `events` (kscope: SignalRecord) */
struct signal_event {
	struct event_header h; /* generate: the sender; deliver: the receiver */
	__u32 kind;
	__s32 sig;
	__s32 errno_;
	__s32 code;
	__s32 result;      /* generate: 0 delivered, 1 ignored, 2 already pending, 3 overflow, 4 lose info */
	__u32 target_pid;  /* generate: the target task (thread id) */
	__u32 group;       /* generate: sent to the whole thread group */
	__u32 fatal;       /* deliver: the signal kills the process (no handler) */
	__u64 sa_handler;  /* deliver: 0 default, 1 ignore, else the handler's address */
	__u64 sa_flags;
	char target_comm[TASK_COMM_LEN];
};

KEEP_RECORD(signal_event);

#define SIGKILL 9

/* 1: only what ends processes: deliveries that kill (fatal), and the sending to a target process of signals whose
 * default action kills, which names who sent them (kscope diagnose's signal source; Go's SIGURG preemption, SIGCHLD
 * and the like stay in the kernel) */
const volatile __u8 fatal_only = 0;

/* the signals whose default action does not end the process: SIGCHLD, SIGCONT, SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU,
 * SIGURG, SIGWINCH (signal(7)); every other one, real-time signals too, terminates (or dumps core) by default */
#define SPARING_SIGNALS ((1u << 17) | (1u << 18) | (1u << 19) | (1u << 20) | (1u << 21) | (1u << 22) | (1u << 23) | (1u << 28))

static __always_inline bool kills_by_default(__u32 sig)
{
	if (sig == 0 || sig > 64)
		return false;
	return sig > 31 || !((1u << sig) & SPARING_SIGNALS);
}

/* signal:signal_deliver */
struct signal_deliver_ctx {
	__u64 common;
	__s32 sig;
	__s32 errno_;
	__s32 code;
	__u32 pad;
	__u64 sa_handler;
	__u64 sa_flags;
};

DECLARE_EVENTS(256);

/* signal_generate(int sig, struct kernel_siginfo *info, struct task_struct *task, int group, int result):
 * raw, for the target's tgid (the tracepoint names only its thread id, and a signal to any thread of a
 * target process counts) */
SEC("raw_tracepoint/signal_generate")
int signal_generate(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *task = (struct task_struct *)ctx->args[2];
	bool to_target = tgid_in_set(BPF_CORE_READ(task, tgid));
	if (!current_allowed() && !to_target)
		return 0;
	if (fatal_only) {
		__u32 sig = (__u32)ctx->args[0];
		if (!to_target || !kills_by_default(sig))
			return 0;
	}
	struct signal_event *e = reserve_record(struct signal_event);
	if (!e)
		return 0;
	fill_header(&e->h);
	e->kind = SIGNAL_KIND_GENERATE;
	e->sig = (__s32)ctx->args[0];
	__u64 info = ctx->args[1];
	/* SEND_SIG_NOINFO (0): a kill from user space, SI_USER; SEND_SIG_PRIV (1): from the kernel, SI_KERNEL */
	if (info > 1) {
		__s32 head[3] = {}; /* struct kernel_siginfo: si_signo, si_errno, si_code (fixed ABI) */
		bpf_probe_read_kernel(head, sizeof(head), (void *)info);
		e->errno_ = head[1];
		e->code = head[2];
	} else {
		e->code = info == 1 ? 0x80 : 0;
	}
	e->result = (__s32)ctx->args[4];
	e->target_pid = BPF_CORE_READ(task, pid);
	e->group = (__u32)ctx->args[3];
	bpf_core_read_str(e->target_comm, sizeof(e->target_comm), &task->comm);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tracepoint/signal/signal_deliver")
int signal_deliver(struct signal_deliver_ctx *ctx)
{
	if (!current_allowed())
		return 0;
	__s32 sig = ctx->sig;
	__u32 fatal = 0;
	if (sig == SIGKILL) {
		/* the group-exit path of get_signal(): group_exit_code is the fatal signal, or an exit
		 * status << 8 (exit_group) or 0 (exec) when no signal was sent */
		struct task_struct *t = (struct task_struct *)bpf_get_current_task();
		int code = BPF_CORE_READ(t, signal, group_exit_code) & 0x7f;
		if (code == 0)
			return 0;
		sig = code;
		fatal = 1;
	} else if (ctx->sa_handler == 0 && kills_by_default(sig)) {
		fatal = 1; /* no handler: the default action ends the process (a single-threaded one sees only this) */
	}
	if (fatal_only && !fatal)
		return 0;
	struct signal_event *e = reserve_record(struct signal_event);
	if (!e)
		return 0;
	fill_header(&e->h);
	e->kind = SIGNAL_KIND_DELIVER;
	e->sig = sig;
	e->fatal = fatal;
	e->errno_ = ctx->errno_;
	e->code = ctx->code;
	e->target_pid = e->h.tid;
	e->sa_handler = ctx->sa_handler;
	e->sa_flags = ctx->sa_flags;
	__builtin_memcpy(e->target_comm, e->h.comm, sizeof(e->target_comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}
