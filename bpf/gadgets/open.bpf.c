/* SPDX-License-Identifier: GPL-2.0 */
/* open: openat/openat2 calls of the targets: path, flags, mode, result (fd or -errno), latency. */
#include "filter.h"

#define PATH_LEN 256

/* 1: only calls that failed reach the ring (trace open --failed, opensnoop -x; diagnose's open errors) */
const volatile __u8 failed_only = 0;

/* record of ring buffer `events` (kscope: OpenRecord) */
struct open_event {
	struct event_header h;
	__u64 latency_ns;
	__s64 ret;   /* fd, or -errno */
	__u64 flags; /* O_* flags */
	__u32 mode;
	__s32 dfd;
	char path[PATH_LEN];
};

DECLARE_EVENTS(256);
KEEP_RECORD(open_event);

/* a call in progress: 32 bytes per thread, not the whole record. The path is read at exit (as
 * opensnoop does): a path in a page not yet faulted in (a string constant in a library's .rodata)
 * reads only once the kernel has copied it in. A small value keeps the preallocated LRU map small,
 * which is most of what creating it costs at start-up. */
struct open_start {
	__u64 ts_ns;
	__u64 path_ptr;
	__u64 flags;
	__u32 mode;
	__s32 dfd;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, __u32); /* tid */
	__type(value, struct open_start);
} starts SEC(".maps");

/* struct open_how, include/uapi/linux/openat2.h */
struct open_how {
	__u64 flags;
	__u64 mode;
	__u64 resolve;
};

static __always_inline int on_enter(int dfd, const char *path, __u64 flags, __u32 mode)
{
	if (!current_allowed())
		return 0;
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct open_start s = {
		.ts_ns = bpf_ktime_get_ns(),
		.path_ptr = (__u64)path,
		.flags = flags,
		.mode = mode,
		.dfd = dfd,
	};
	bpf_map_update_elem(&starts, &tid, &s, BPF_ANY);
	return 0;
}

/* the finished call's record, written straight into the ring */
static __always_inline void emit(const struct open_start *s, long ret)
{
	struct open_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_lost();
		return;
	}
	fill_header(&e->h);
	e->latency_ns = e->h.ts_ns - s->ts_ns;
	e->ret = ret;
	e->flags = s->flags;
	e->mode = s->mode;
	e->dfd = s->dfd;
	if (bpf_probe_read_user_str(e->path, sizeof(e->path), (const char *)s->path_ptr) <= 0)
		e->path[0] = 0;
	bpf_ringbuf_submit(e, 0);
}

static __always_inline int on_exit(long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct open_start *s = bpf_map_lookup_elem(&starts, &tid);
	if (!s)
		return 0;
	if (!failed_only || ret < 0)
		emit(s, ret);
	bpf_map_delete_elem(&starts, &tid);
	return 0;
}

#define NR_OPENAT SYS_NR(257, 56)
#define NR_OPENAT2 437 /* both */

/* raw tracepoints, not syscalls:sys_enter_openat & co: gadget.h says why (detach without waiting) */
SEC("raw_tracepoint/sys_enter")
int sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	long id = (long)ctx->args[1];
	if ((id != NR_OPENAT && id != NR_OPENAT2) || !syscall_is_native())
		return 0;
	const void *regs = (const void *)ctx->args[0];
	int dfd = (int)syscall_arg(regs, 0);
	const char *path = (const char *)syscall_arg(regs, 1);
	if (id == NR_OPENAT)
		return on_enter(dfd, path, (__u32)syscall_arg(regs, 2), (__u32)syscall_arg(regs, 3));
	struct open_how how = {};
	bpf_probe_read_user(&how, sizeof(how), (void *)syscall_arg(regs, 2));
	return on_enter(dfd, path, how.flags, (__u32)how.mode);
}

SEC("raw_tracepoint/sys_exit")
int sys_exit(struct bpf_raw_tracepoint_args *ctx)
{
	long id = syscall_nr((const void *)ctx->args[0]);
	if ((id != NR_OPENAT && id != NR_OPENAT2) || !syscall_is_native())
		return 0;
	return on_exit((long)ctx->args[1]);
}
