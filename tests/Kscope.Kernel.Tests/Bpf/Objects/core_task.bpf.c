// CO-RE across kernels: task_struct's pid, tgid and real_parent sit at different offsets on every
// kernel (5.10: 2232, 6.1: 2416, 6.12: 2432 for pid). The local definition below puts them at 0, 4
// and 8; the loader must relocate each read (and each byte-offset query) to the running kernel's.
#include "kscope_bpf.h"

struct task_struct {
    int pid;
    int tgid;
    struct task_struct *real_parent;
} __core;

const volatile __u32 target_tgid = 0; // .rodata: the test process

// .bss: what the last matching getcwd() saw.
__u32 seen = 0;
__u32 helper_tid = 0;   // bpf_get_current_pid_tgid(): the other source
__u32 helper_tgid = 0;
__u32 core_pid = 0;     // the same, read through CO-RE
__u32 core_tgid = 0;
__u32 core_ppid = 0;    // task->real_parent->tgid
__u32 pid_offset = 0;   // the offsets CO-RE resolved (BPF_FIELD_BYTE_OFFSET)
__u32 tgid_offset = 0;
__u32 real_parent_offset = 0;

SEC("tracepoint/syscalls/sys_enter_getcwd")
int read_task(void *ctx)
{
    __u64 id = bpf_get_current_pid_tgid();
    if ((__u32)(id >> 32) != target_tgid)
        return 0;
    struct task_struct *task = (struct task_struct *)bpf_get_current_task();
    struct task_struct *parent = 0;
    BPF_CORE_READ_INTO(&core_pid, task, pid);
    BPF_CORE_READ_INTO(&core_tgid, task, tgid);
    BPF_CORE_READ_INTO(&parent, task, real_parent);
    if (parent)
        BPF_CORE_READ_INTO(&core_ppid, parent, tgid);
    pid_offset = __builtin_preserve_field_info(task->pid, 0);
    tgid_offset = __builtin_preserve_field_info(task->tgid, 0);
    real_parent_offset = __builtin_preserve_field_info(task->real_parent, 0);
    helper_tid = (__u32)id;
    helper_tgid = (__u32)(id >> 32);
    seen = seen + 1;
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
