/* SPDX-License-Identifier: GPL-2.0 */
/*
 * signal: signals generated (sent: sender in the header, the target named) and delivered (the
 * receiving task in the header) where the sender or the target is a target of the trace.
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
	__u32 pad;
	__u64 sa_handler;  /* deliver: 0 default, 1 ignore, else the handler's address */
	__u64 sa_flags;
	char target_comm[TASK_COMM_LEN];
};

/* signal:signal_generate (include/trace/events/signal.h) */
struct signal_generate_ctx {
	__u64 common;
	__s32 sig;
	__s32 errno_;
	__s32 code;
	char comm[TASK_COMM_LEN];
	__s32 pid;
	__s32 group;
	__s32 result;
};

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

SEC("tracepoint/signal/signal_generate")
int signal_generate(struct signal_generate_ctx *ctx)
{
	if (!current_allowed() && !tgid_in_set(ctx->pid))
		return 0;
	struct signal_event *e = reserve_record(struct signal_event);
	if (!e)
		return 0;
	fill_header(&e->h);
	e->kind = SIGNAL_KIND_GENERATE;
	e->sig = ctx->sig;
	e->errno_ = ctx->errno_;
	e->code = ctx->code;
	e->result = ctx->result;
	e->target_pid = ctx->pid;
	e->group = ctx->group;
	__builtin_memcpy(e->target_comm, ctx->comm, sizeof(e->target_comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tracepoint/signal/signal_deliver")
int signal_deliver(struct signal_deliver_ctx *ctx)
{
	if (!current_allowed())
		return 0;
	struct signal_event *e = reserve_record(struct signal_event);
	if (!e)
		return 0;
	fill_header(&e->h);
	e->kind = SIGNAL_KIND_DELIVER;
	e->sig = ctx->sig;
	e->errno_ = ctx->errno_;
	e->code = ctx->code;
	e->target_pid = e->h.tid;
	e->sa_handler = ctx->sa_handler;
	e->sa_flags = ctx->sa_flags;
	__builtin_memcpy(e->target_comm, e->h.comm, sizeof(e->target_comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}
