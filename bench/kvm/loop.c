// The C side of bench/kvm: the same measurements as Kscope.Bench.Kvm, straight against <linux/kvm.h>.
// 1) VM + vCPU creation to the first exit; 2) IO-exit round trips per second of wall time and of thread CPU time.
// Guest (real mode, at 0x1000): e6 80 = out %al,$0x80 ; eb fc = jmp back to the out.
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static double clock_s(clockid_t c) { struct timespec t; clock_gettime(c, &t); return t.tv_sec + t.tv_nsec / 1e9; }
static double now(void) { return clock_s(CLOCK_MONOTONIC); }
// CPU time of this thread: unlike wall time, not inflated when other processes take the (shared) cores.
static double cpu(void) { return clock_s(CLOCK_THREAD_CPUTIME_ID); }
#define CHECK(x) do { if ((x) < 0) { perror(#x); exit(1); } } while (0)

int main(int argc, char **argv) {
    long exits = argc > 1 ? atol(argv[1]) : 20000;
    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC); CHECK(kvm);
    double t0 = now();
    int vm = ioctl(kvm, KVM_CREATE_VM, 0); CHECK(vm);
    // As kscope's VirtualMachine does: the three-page TSS Intel VMX needs for real mode.
    if (ioctl(vm, KVM_CHECK_EXTENSION, KVM_CAP_SET_TSS_ADDR) > 0) CHECK(ioctl(vm, KVM_SET_TSS_ADDR, 0xfffbd000UL));
    size_t size = 2 << 20;
    uint8_t *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    const uint8_t code[] = { 0xe6, 0x80, 0xeb, 0xfc };
    memcpy(mem + 0x1000, code, sizeof code);
    struct kvm_userspace_memory_region region = { .slot = 0, .guest_phys_addr = 0, .memory_size = size, .userspace_addr = (uintptr_t)mem };
    CHECK(ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region));
    int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0); CHECK(vcpu);
    int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0); CHECK(run_size);
    struct kvm_run *run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
    struct kvm_sregs sregs; CHECK(ioctl(vcpu, KVM_GET_SREGS, &sregs));
    sregs.cs.base = 0; sregs.cs.selector = 0;
    CHECK(ioctl(vcpu, KVM_SET_SREGS, &sregs));
    struct kvm_regs regs = { .rip = 0x1000, .rflags = 2 };
    CHECK(ioctl(vcpu, KVM_SET_REGS, &regs));
    CHECK(ioctl(vcpu, KVM_RUN, 0));
    double first = now() - t0;
    if (run->exit_reason != KVM_EXIT_IO) { fprintf(stderr, "unexpected exit %u\n", run->exit_reason); return 1; }
    double t1 = now(), c1 = cpu();
    for (long i = 0; i < exits; i++) {
        CHECK(ioctl(vcpu, KVM_RUN, 0));
        if (run->exit_reason != KVM_EXIT_IO) { fprintf(stderr, "unexpected exit %u\n", run->exit_reason); return 1; }
    }
    double loop = now() - t1, loop_cpu = cpu() - c1;
    printf("c first_exit_us=%.1f io_exits_per_s=%.0f io_exits_per_cpu_s=%.0f\n", first * 1e6, exits / loop, exits / loop_cpu);
    return 0;
}
