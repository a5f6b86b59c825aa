// Several programs sharing maps and a subprogram, plus legacy-free BTF maps, for loader and bpftool tests.
#include "kscope_bpf.h"

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u64);
} hits SEC(".maps");

__u64 calls = 0;

static __noinline int bump(__u32 slot)
{
    __u64 *v = bpf_map_lookup_elem(&hits, &slot);
    if (v)
        __sync_fetch_and_add(v, 1);
    __sync_fetch_and_add(&calls, 1);
    return 0;
}

SEC("raw_tracepoint/sys_enter")
int on_enter(void *ctx) { return bump(0); }

SEC("raw_tracepoint/sys_exit")
int on_exit(void *ctx) { return bump(1); }

SEC("tracepoint/syscalls/sys_enter_getpid")
int on_getpid(void *ctx) { return bump(2); }

SEC("socket")
int sock(void *ctx) { bump(3); return 0; }

char LICENSE[] SEC("license") = "GPL";
