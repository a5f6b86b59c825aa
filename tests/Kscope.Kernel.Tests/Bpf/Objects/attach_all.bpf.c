// One program per attach point kscope attaches by section name alone; each counts its runs in hits[slot].
// UPROBE_BINARY is the test's uprobe target (UprobeTarget.cs), passed with -D by the test.
#include "kscope_bpf.h"

#ifndef UPROBE_BINARY
#define UPROBE_BINARY "/bin/true"
#endif

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 16);
    __type(key, __u32);
    __type(value, __u64);
} hits SEC(".maps");

static __always_inline int hit(__u32 slot)
{
    __u64 *v = bpf_map_lookup_elem(&hits, &slot);
    if (v)
        __sync_fetch_and_add(v, 1);
    return 0;
}

SEC("kprobe/do_sys_openat2")
int on_kprobe(void *ctx) { return hit(0); }

SEC("kretprobe/do_sys_openat2")
int on_kretprobe(void *ctx) { return hit(1); }

SEC("uprobe/" UPROBE_BINARY ":kscope_target")
int on_uprobe(void *ctx) { return hit(2); }

SEC("uretprobe/" UPROBE_BINARY ":kscope_target")
int on_uretprobe(void *ctx) { return hit(3); }

SEC("perf_event")
int on_perf_event(void *ctx) { return hit(4); }

SEC("fentry/do_sys_openat2")
int on_fentry(__u64 *ctx) { return hit(5); }

SEC("fexit/do_sys_openat2")
int on_fexit(__u64 *ctx) { return hit(6); }

SEC("tp_btf/sys_enter")
int on_tp_btf(__u64 *ctx) { return hit(7); }

SEC("lsm/file_open")
int on_lsm(__u64 *ctx) { return hit(8); }

// Symbol + offset: the third byte of kscope_nops (x86-64 only: four one-byte nops, then the body).
SEC("uprobe/" UPROBE_BINARY ":kscope_nops+2")
int on_uprobe_offset(void *ctx) { return hit(9); }

SEC("socket")
int on_socket(void *ctx) { hit(10); return 0; }

char LICENSE[] SEC("license") = "GPL";
