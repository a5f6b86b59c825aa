// The verifier rejects this program (an out-of-bounds map value read); the error must show the source line.
#include "kscope_bpf.h"

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} values SEC(".maps");

SEC("raw_tracepoint/sys_enter")
int out_of_bounds(void *ctx)
{
    __u32 key = 0;
    __u64 *v = bpf_map_lookup_elem(&values, &key);
    if (!v)
        return 0;
    return (int)v[64]; // reads 512 bytes past an 8-byte value
}

char LICENSE[] SEC("license") = "GPL";
