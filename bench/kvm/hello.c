// The C side of bench/kvm's start-up comparison: what `kscope kvm run FILE` does with its defaults, straight
// against <linux/kvm.h>. A flat real-mode binary at guest-physical 0x1000 in 2 MiB of RAM, CS..SS = 0,
// SP = 0xfff0; OUT to 0x3f8 or 0xe9 goes to stdout; IN from 0x3fd reads 0x60; stops on HLT.
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define CHECK(x) do { if ((x) < 0) { perror(#x); exit(2); } } while (0)

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: hello FILE\n"); return 64; }
    size_t size = 2 << 20, load = 0x1000;
    uint8_t *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED) { perror("mmap"); return 2; }
    int f = open(argv[1], O_RDONLY | O_CLOEXEC); CHECK(f);
    ssize_t n = read(f, mem + load, size - load); CHECK(n);
    close(f);
    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC); CHECK(kvm);
    if (ioctl(kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) { fprintf(stderr, "KVM API version\n"); return 2; }
    int vm = ioctl(kvm, KVM_CREATE_VM, 0); CHECK(vm);
    if (ioctl(vm, KVM_CHECK_EXTENSION, KVM_CAP_SET_TSS_ADDR) > 0) CHECK(ioctl(vm, KVM_SET_TSS_ADDR, 0xfffbd000UL));
    struct kvm_userspace_memory_region region = { .slot = 0, .guest_phys_addr = 0, .memory_size = size, .userspace_addr = (uintptr_t)mem };
    CHECK(ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region));
    int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0); CHECK(vcpu);
    int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0); CHECK(run_size);
    struct kvm_run *run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
    if (run == MAP_FAILED) { perror("mmap kvm_run"); return 2; }
    struct kvm_sregs sregs; CHECK(ioctl(vcpu, KVM_GET_SREGS, &sregs));
    struct kvm_segment *segs[] = { &sregs.cs, &sregs.ds, &sregs.es, &sregs.fs, &sregs.gs, &sregs.ss };
    for (int i = 0; i < 6; i++) { segs[i]->base = 0; segs[i]->selector = 0; }
    sregs.cr0 &= ~(1UL | (1UL << 31));
    CHECK(ioctl(vcpu, KVM_SET_SREGS, &sregs));
    struct kvm_regs regs = { .rip = load, .rsp = 0xfff0, .rflags = 2 };
    CHECK(ioctl(vcpu, KVM_SET_REGS, &regs));
    for (long exits = 0; exits < 1000000; exits++) {
        CHECK(ioctl(vcpu, KVM_RUN, 0));
        switch (run->exit_reason) {
        case KVM_EXIT_IO: {
            uint8_t *data = (uint8_t *)run + run->io.data_offset;
            size_t len = (size_t)run->io.size * run->io.count;
            if (run->io.direction == KVM_EXIT_IO_OUT) {
                if (run->io.port == 0x3f8 || run->io.port == 0xe9) fwrite(data, 1, len, stdout);
            } else {
                memset(data, run->io.port == 0x3fd ? 0x60 : 0xff, len);
            }
            break;
        }
        case KVM_EXIT_HLT:
            fflush(stdout);
            return 0;
        default:
            fprintf(stderr, "unexpected exit %u\n", run->exit_reason);
            return 2;
        }
    }
    return 1;
}
