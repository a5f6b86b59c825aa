// __kconfig externs the loader resolves as libbpf does, including a weak one no kernel config has.
#include "kscope_bpf.h"

#define __kconfig __attribute__((section(".kconfig")))
#define __weak __attribute__((weak))

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern int CONFIG_HZ __kconfig;
extern _Bool CONFIG_BPF_SYSCALL __kconfig;
extern int CONFIG_KSCOPE_NO_SUCH_OPTION __kconfig __weak;

__u64 seen_version = 0;
__u64 seen_hz = 0;
__u64 seen_bpf = 0;
__u64 seen_missing = 42;

SEC("raw_tracepoint/sys_enter")
int read_kconfig(void *ctx)
{
    seen_version = LINUX_KERNEL_VERSION;
    seen_hz = CONFIG_HZ;
    seen_bpf = CONFIG_BPF_SYSCALL;
    seen_missing = CONFIG_KSCOPE_NO_SUCH_OPTION;
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
