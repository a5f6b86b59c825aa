// An example object for `kscope bpf run`: a tracepoint program with CO-RE reads, a subprogram,
// global data, a hash map and a ring buffer. Build: make -C bpf (clang -O2 -g -target bpf).
#include "kscope_bpf.h"

// Only the fields we read: CO-RE relocates their offsets to the running kernel's layout.
struct task_struct {
    int pid;
    int tgid;
    struct task_struct *real_parent;
} __core;

struct event {
    __u32 pid;
    __u32 tgid;
    __u32 ppid;
    __u32 seq;
    char comm[16];
};

// Puts struct event into the object's BTF so `kscope bpf run --record event` can decode records.
const struct event *unused_event __attribute__((unused));

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 64 * 1024);
} events SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1024);
    __type(key, __u32);
    __type(value, __u64);
} opens_by_tgid SEC(".maps");

const volatile __u32 target_tgid = 0; // .rodata: set before load, 0 = everyone
__u64 total_opens = 0;                // .bss
__u32 sequence = 1;                   // .data

static __noinline __u32 parent_tgid(struct task_struct *task)
{
    struct task_struct *parent = 0;
    __u32 ppid = 0;
    BPF_CORE_READ_INTO(&parent, task, real_parent);
    if (parent)
        BPF_CORE_READ_INTO(&ppid, parent, tgid);
    return ppid;
}

SEC("tracepoint/syscalls/sys_enter_openat")
int count_openat(void *ctx)
{
    struct task_struct *task = (struct task_struct *)bpf_get_current_task();
    __u32 tgid = 0;
    BPF_CORE_READ_INTO(&tgid, task, tgid);
    if (target_tgid && tgid != target_tgid)
        return 0;

    __u64 one = 1, *count = bpf_map_lookup_elem(&opens_by_tgid, &tgid);
    if (count)
        __sync_fetch_and_add(count, 1);
    else
        bpf_map_update_elem(&opens_by_tgid, &tgid, &one, BPF_NOEXIST);
    __sync_fetch_and_add(&total_opens, 1);

    struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
    if (!e)
        return 0;
    e->tgid = tgid;
    e->pid = (__u32)bpf_get_current_pid_tgid();
    e->ppid = parent_tgid(task);
    e->seq = __sync_fetch_and_add(&sequence, 1);
    bpf_get_current_comm(e->comm, sizeof(e->comm));
    bpf_ringbuf_submit(e, 0);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
