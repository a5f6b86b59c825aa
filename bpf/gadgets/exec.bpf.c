/* SPDX-License-Identifier: GPL-2.0 */
/* exec: every execve/execveat of the targets, with filename, bounded argv, parent and result. */
#include "filter.h"

#define FILENAME_LEN 256
#define ARGS_LEN 512 /* arguments start below this offset */
#define ARG_LEN 128  /* each argument is cut to 127 bytes */
#define MAX_ARGS 20

/* record of ring buffer `events` (kscope: ExecRecord) */
struct exec_event {
	struct event_header h;
	__u32 ppid;
	__s32 retval;
	__u32 args_count; /* arguments captured (at most MAX_ARGS) */
	__u32 args_size;  /* bytes used in args: NUL-separated */
	__u8 args_truncated;
	__u8 pad[7];
	char filename[FILENAME_LEN];
	char args[ARGS_LEN + ARG_LEN];
};

DECLARE_EVENTS(256);
KEEP_RECORD(exec_event);

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, __u32); /* tid */
	__type(value, struct exec_event);
} execs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct exec_event);
} scratch SEC(".maps");

static __always_inline int on_enter(const char *filename, const char *const *argv)
{
	/* comm is checked at exit, where it is the new program's name; so is the wrapper of -- COMMAND,
	 * whose failed execs (its PATH search) are not the command's, and whose successful one is */
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 cgroup_id = filter_cgroup ? bpf_get_current_cgroup_id() : 0;
	if (!ids_match(pid_tgid >> 32, (__u32)pid_tgid, (__u32)bpf_get_current_uid_gid(), cgroup_id))
		return 0;
	__u32 zero = 0, tid = (__u32)pid_tgid;
	struct exec_event *e = bpf_map_lookup_elem(&scratch, &zero);
	if (!e)
		return 0;
	e->args_count = 0;
	e->args_size = 0;
	e->args_truncated = 0;
	e->retval = 0;
	bpf_probe_read_user_str(e->filename, sizeof(e->filename), filename);
#pragma unroll
	for (int i = 0; i < MAX_ARGS; i++) {
		const char *arg = NULL;
		bpf_probe_read_user(&arg, sizeof(arg), &argv[i]);
		if (!arg)
			goto done;
		__u32 off = e->args_size;
		if (off >= ARGS_LEN) {
			e->args_truncated = 1;
			goto done;
		}
		long n = bpf_probe_read_user_str(&e->args[off & (ARGS_LEN - 1)], ARG_LEN, arg);
		if (n <= 0)
			goto done;
		e->args_size = off + n;
		e->args_count++;
	}
	{
		const char *more = NULL;
		bpf_probe_read_user(&more, sizeof(more), &argv[MAX_ARGS]);
		if (more)
			e->args_truncated = 1;
	}
done:
	bpf_map_update_elem(&execs, &tid, e, BPF_ANY);
	return 0;
}

static __always_inline int on_exit(long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct exec_event *e = bpf_map_lookup_elem(&execs, &tid);
	if (!e)
		return 0;
	bool report = filter_comm_on ? current_allowed() : !filter_pids || pid_state(bpf_get_current_pid_tgid() >> 32) == PID_TRACED;
	if (report) {
		struct task_struct *t = (struct task_struct *)bpf_get_current_task();
		fill_header(&e->h);
		e->ppid = BPF_CORE_READ(t, real_parent, tgid);
		e->retval = ret;
		if (bpf_ringbuf_output(&events, e, sizeof(*e), 0))
			count_lost();
	}
	bpf_map_delete_elem(&execs, &tid);
	return 0;
}

#define NR_EXECVE SYS_NR(59, 221)
#define NR_EXECVEAT SYS_NR(322, 281)

/* raw tracepoints, not syscalls:sys_enter_execve & co: gadget.h says why (detach without waiting). A successful
 * exec keeps the number in the registers (x86 orig_ax, arm64 syscallno), so sys_exit still names it. */
SEC("raw_tracepoint/sys_enter")
int sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	long id = (long)ctx->args[1];
	if ((id != NR_EXECVE && id != NR_EXECVEAT) || !syscall_is_native())
		return 0;
	const void *regs = (const void *)ctx->args[0];
	if (id == NR_EXECVE)
		return on_enter((const char *)syscall_arg(regs, 0), (const char *const *)syscall_arg(regs, 1));
	return on_enter((const char *)syscall_arg(regs, 1), (const char *const *)syscall_arg(regs, 2));
}

SEC("raw_tracepoint/sys_exit")
int sys_exit(struct bpf_raw_tracepoint_args *ctx)
{
	long id = syscall_nr((const void *)ctx->args[0]);
	if ((id != NR_EXECVE && id != NR_EXECVEAT) || !syscall_is_native())
		return 0;
	return on_exit((long)ctx->args[1]);
}
