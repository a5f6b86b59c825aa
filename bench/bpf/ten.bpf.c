// Ten programs sharing one map: object load + attach time.
#include "kscope_bpf.h"

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u64);
} counts SEC(".maps");

SEC("raw_tracepoint/sys_enter")
int prog0(void *ctx) { __u32 k = 0; __u64 *v = bpf_map_lookup_elem(&counts, &k); if (v) __sync_fetch_and_add(v, 1); return 0; }

SEC("raw_tracepoint/sys_enter")
int prog1(void *ctx) { __u32 k = 1; __u64 *v = bpf_map_lookup_elem(&counts, &k); if (v) __sync_fetch_and_add(v, 1); return 0; }

SEC("raw_tracepoint/sys_enter")
int prog2(void *ctx) { __u32 k = 2; __u64 *v = bpf_map_lookup_elem(&counts, &k); if (v) __sync_fetch_and_add(v, 1); return 0; }

SEC("raw_tracepoint/sys_enter")
int prog3(void *ctx) { __u32 k = 3; __u64 *v = bpf_map_lookup_elem(&counts, &k); if (v) __sync_fetch_and_add(v, 1); return 0; }

SEC("raw_tracepoint/sys_enter")
int prog4(void *ctx) { __u32 k = 0; __u64 *v = bpf_map_lookup_elem(&counts, &k); if (v) __sync_fetch_and_add(v, 1); return 0; }

SEC("raw_tracepoint/sys_enter")
int prog5(void *ctx) { __u32 k = 1; __u64 *v = bpf_map_lookup_elem(&counts, &k); if (v) __sync_fetch_and_add(v, 1); return 0; }

SEC("raw_tracepoint/sys_enter")
int prog6(void *ctx) { __u32 k = 2; __u64 *v = bpf_map_lookup_elem(&counts, &k); if (v) __sync_fetch_and_add(v, 1); return 0; }

SEC("raw_tracepoint/sys_enter")
int prog7(void *ctx) { __u32 k = 3; __u64 *v = bpf_map_lookup_elem(&counts, &k); if (v) __sync_fetch_and_add(v, 1); return 0; }

SEC("raw_tracepoint/sys_enter")
int prog8(void *ctx) { __u32 k = 0; __u64 *v = bpf_map_lookup_elem(&counts, &k); if (v) __sync_fetch_and_add(v, 1); return 0; }

SEC("raw_tracepoint/sys_enter")
int prog9(void *ctx) { __u32 k = 1; __u64 *v = bpf_map_lookup_elem(&counts, &k); if (v) __sync_fetch_and_add(v, 1); return 0; }

char LICENSE[] SEC("license") = "GPL";
