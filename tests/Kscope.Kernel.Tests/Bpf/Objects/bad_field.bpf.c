// A CO-RE read of a field the kernel's task_struct does not have: the loader must name it.
#include "kscope_bpf.h"

struct task_struct {
    int kscope_no_such_field;
} __core;

SEC("raw_tracepoint/sys_enter")
int read_missing(void *ctx)
{
    struct task_struct *task = (struct task_struct *)bpf_get_current_task();
    int v = 0;
    BPF_CORE_READ_INTO(&v, task, kscope_no_such_field);
    return v;
}

char LICENSE[] SEC("license") = "GPL";
