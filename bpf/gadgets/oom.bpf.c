/* SPDX-License-Identifier: GPL-2.0 */
/*
 * oom: OOM kills: the victim, its memory figures (kB, as the kernel's oom:mark_victim reports them
 * on 6.x; older kernels report only the pid, the figures are then zero) and the task whose
 * allocation triggered the kill (the header; in the same memory cgroup for a cgroup OOM).
 */
#include "common.h"

/* record of ring buffer `events` (kscope: OomRecord) */
struct oom_event {
	struct event_header h; /* the task whose allocation triggered the kill */
	__u32 victim_pid;
	__u32 victim_uid;
	__u64 total_vm_kb;
	__u64 anon_rss_kb;
	__u64 file_rss_kb;
	__u64 shmem_rss_kb;
	__u64 pgtables_kb;
	__s32 oom_score_adj;
	__u32 has_figures; /* 1 when the kernel's tracepoint carries the memory figures */
	char victim_comm[TASK_COMM_LEN];
};

/* oom:mark_victim (include/trace/events/oom.h); fields after pid exist from 6.2 on */
struct trace_event_raw_mark_victim {
	int pid;
	__u32 __data_loc_comm;
	unsigned long total_vm;
	unsigned long anon_rss;
	unsigned long file_rss;
	unsigned long shmem_rss;
	unsigned int uid;
	unsigned long pgtables;
	short oom_score_adj;
} __attribute__((preserve_access_index));

DECLARE_EVENTS(64);
KEEP_RECORD(oom_event);

SEC("tracepoint/oom/mark_victim")
int oom_mark_victim(struct trace_event_raw_mark_victim *ctx)
{
	__u32 victim = BPF_CORE_READ(ctx, pid);
	if (!tgid_in_set(victim) && !current_allowed())
		return 0;
	struct oom_event *e = reserve_record(struct oom_event);
	if (!e)
		return 0;
	fill_header(&e->h);
	e->victim_pid = victim;
	if (bpf_core_field_exists(ctx->total_vm)) {
		e->has_figures = 1;
		e->total_vm_kb = BPF_CORE_READ(ctx, total_vm);
		e->anon_rss_kb = BPF_CORE_READ(ctx, anon_rss);
		e->file_rss_kb = BPF_CORE_READ(ctx, file_rss);
		e->shmem_rss_kb = BPF_CORE_READ(ctx, shmem_rss);
	}
	if (bpf_core_field_exists(ctx->uid))
		e->victim_uid = BPF_CORE_READ(ctx, uid);
	if (bpf_core_field_exists(ctx->pgtables))
		e->pgtables_kb = BPF_CORE_READ(ctx, pgtables);
	if (bpf_core_field_exists(ctx->oom_score_adj))
		e->oom_score_adj = BPF_CORE_READ(ctx, oom_score_adj);
	if (bpf_core_field_exists(ctx->__data_loc_comm)) {
		__u32 loc = BPF_CORE_READ(ctx, __data_loc_comm);
		bpf_probe_read_kernel_str(e->victim_comm, sizeof(e->victim_comm), (void *)ctx + (loc & 0xffff));
	}
	bpf_ringbuf_submit(e, 0);
	return 0;
}
