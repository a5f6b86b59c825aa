// The same array-map lookup loop as BpfBench's Lookup, in C through syscall(2): the baseline for the C# ratio.
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long bpf(int cmd, union bpf_attr *attr) { return syscall(__NR_bpf, cmd, attr, sizeof(*attr)); }

int main(void)
{
    union bpf_attr a;
    memset(&a, 0, sizeof(a));
    a.map_type = BPF_MAP_TYPE_ARRAY; a.key_size = 4; a.value_size = 8; a.max_entries = 1024;
    int fd = bpf(BPF_MAP_CREATE, &a);
    if (fd < 0) { perror("map create"); return 1; }
    const int n = 2000000;
    double best = 1e30, best_cpu = 1e30;
    for (int round = 0; round < 5; round++) {
        struct timespec t0, t1, c0, c1;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (int i = 0; i < n; i++) {
            unsigned int key = i & 1023; unsigned long long value;
            memset(&a, 0, sizeof(a));
            a.map_fd = fd; a.key = (unsigned long)&key; a.value = (unsigned long)&value;
            bpf(BPF_MAP_LOOKUP_ELEM, &a);
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
        double ns = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / n;
        double cpu = ((c1.tv_sec - c0.tv_sec) * 1e9 + (c1.tv_nsec - c0.tv_nsec)) / n;
        if (ns < best) best = ns;
        if (cpu < best_cpu) best_cpu = cpu;
    }
    printf("lookup: C syscall loop %.1f ns/op wall, %.1f ns/op cpu (best of 5 x %d)\n", best, best_cpu, n);
    return 0;
}
