// Several .bss and .data variables of different sizes and offsets (a struct, an array, padding between
// them), each written with a known value on every syscall, for `bpf run` vs `bpftool map dump`.
#include "kscope_bpf.h"

struct pair {
    __u32 x;
    __u16 y;
};

__u8 bss_u8 = 0;            /* .bss offset 0 */
__u64 bss_u64 = 0;          /* .bss offset 8 (aligned) */
__u16 bss_u16 = 0;
struct pair bss_pair = {};
__u32 bss_arr[3] = {};
__u32 bss_untouched = 0;    /* stays 0 */

__u32 data_u32 = 5;         /* .data offset 0, written */
__u64 data_u64 = 77;        /* .data offset 8, kept */
__s16 data_s16 = -3;        /* kept */

SEC("raw_tracepoint/sys_enter")
int on_enter(void *ctx)
{
    bss_u8 = 0x11;
    bss_u64 = 0x0102030405060708ULL;
    bss_u16 = 0x2233;
    bss_pair.x = 4242;
    bss_pair.y = 17;
    bss_arr[0] = 1;
    bss_arr[1] = 2;
    bss_arr[2] = 3;
    data_u32 = 99;
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
