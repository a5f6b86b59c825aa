// Every CO-RE relocation kind besides field byte offset and existence, through libbpf's own macros
// (bpf_core_read.h; bpf_core_field_signed spelled out, as older libbpf-dev lacks it): field size and signedness, bitfield lshift/rshift (BPF_CORE_READ_BITFIELD_PROBED),
// kernel type id, type existence and size, enum value and enum value existence. The local types below
// are deliberately wrong (offsets, sizes, signedness, bit positions, enum values): only relocation
// against the running kernel's BTF gives the values the test expects.
typedef unsigned char __u8;
typedef unsigned short __u16;
typedef unsigned int __u32;
typedef int __s32;
typedef unsigned long long __u64;
typedef long long __s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct task_struct {
    unsigned long long prio;            // kernel: int (signed, 4 bytes)
    char flags;                         // kernel: unsigned int (4 bytes)
    int pid;
    unsigned int in_iowait:1;           // kernel: bit 8 of a 4-byte unit (1192:8 on 6.18)
    unsigned int sched_reset_on_fork:1; // kernel: bit 0 of the unit before (1188:0 on 6.18)
    int tgid;
    struct task_struct *real_parent;
} __attribute__((preserve_access_index));

struct kscope_no_such_type { int x; } __attribute__((preserve_access_index));

enum pid_type { PIDTYPE_PID = 7, PIDTYPE_TGID = 9, PIDTYPE_PGID = 11, PIDTYPE_SID = 13, PIDTYPE_KSCOPE_NONE = 15 };

const volatile __u32 target_tgid = 0;

__u64 seen = 0;
__u64 prio_size = 0, flags_size = 0, reset_size = 0;
__u64 prio_signed = 0, flags_signed = 0, reset_signed = 0;
__u64 reset_tid = 0, reset_offset = 0, reset_lshift = 0, reset_rshift = 0, reset_value = 99;
__u64 iowait_offset = 0, iowait_size = 0, iowait_lshift = 0, iowait_rshift = 0, iowait_value = 99;
__u64 task_type_id = 0, task_exists = 0, missing_exists = 9, task_size = 0;
__u64 sid_value = 0, tgid_exists = 0, none_exists = 9;
__u64 child_seen = 0, child_reset_value = 99;

SEC("tracepoint/syscalls/sys_enter_getcwd")
int core_kinds(void *ctx)
{
    __u64 id = bpf_get_current_pid_tgid();
    __u32 tgid = id >> 32;
    struct task_struct *task = (struct task_struct *)bpf_get_current_task();
    if (tgid != target_tgid) {
        // A child of the test (chrt --reset-on-fork ... pwd): its own sched_reset_on_fork.
        char comm[16];
        if (BPF_CORE_READ(task, real_parent, tgid) != target_tgid)
            return 0;
        bpf_get_current_comm(comm, sizeof(comm));
        if (comm[0] != 'p' || comm[1] != 'w' || comm[2] != 'd' || comm[3] != 0)
            return 0;
        child_reset_value = BPF_CORE_READ_BITFIELD_PROBED(task, sched_reset_on_fork);
        child_seen++;
        return 0;
    }
    prio_size = bpf_core_field_size(task->prio);
    flags_size = bpf_core_field_size(task->flags);
    reset_size = bpf_core_field_size(task->sched_reset_on_fork);
    prio_signed = __builtin_preserve_field_info(task->prio, BPF_FIELD_SIGNED);
    flags_signed = __builtin_preserve_field_info(task->flags, BPF_FIELD_SIGNED);
    reset_signed = __builtin_preserve_field_info(task->sched_reset_on_fork, BPF_FIELD_SIGNED);
    reset_offset = bpf_core_field_offset(task->sched_reset_on_fork);
    reset_lshift = __builtin_preserve_field_info(task->sched_reset_on_fork, BPF_FIELD_LSHIFT_U64);
    reset_rshift = __builtin_preserve_field_info(task->sched_reset_on_fork, BPF_FIELD_RSHIFT_U64);
    reset_value = BPF_CORE_READ_BITFIELD_PROBED(task, sched_reset_on_fork);
    reset_tid = (__u32)id; // the thread whose flag that is
    iowait_offset = bpf_core_field_offset(task->in_iowait);
    iowait_size = bpf_core_field_size(task->in_iowait);
    iowait_lshift = __builtin_preserve_field_info(task->in_iowait, BPF_FIELD_LSHIFT_U64);
    iowait_rshift = __builtin_preserve_field_info(task->in_iowait, BPF_FIELD_RSHIFT_U64);
    iowait_value = BPF_CORE_READ_BITFIELD_PROBED(task, in_iowait);
    task_type_id = bpf_core_type_id_kernel(struct task_struct);
    task_exists = bpf_core_type_exists(struct task_struct);
    missing_exists = bpf_core_type_exists(struct kscope_no_such_type);
    task_size = bpf_core_type_size(struct task_struct);
    sid_value = bpf_core_enum_value(enum pid_type, PIDTYPE_SID);
    tgid_exists = bpf_core_enum_value_exists(enum pid_type, PIDTYPE_TGID);
    none_exists = bpf_core_enum_value_exists(enum pid_type, PIDTYPE_KSCOPE_NONE);
    seen++;
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
