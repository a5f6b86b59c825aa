// Independent oracle and live targets for the doctor tests (built with gcc by DoctorHelper.cs).
//   doctorhelper probe            one line per syscall doctor probes: "<name> <errno>" (0 = the call succeeded)
//   doctorhelper seccomp CMD ARG  sets NoNewPrivs, installs one allow-everything seccomp filter, execs CMD
//   doctorhelper hog MIB          touches MIB MiB of heap, prints "ready", then sleeps until killed
// The probes use raw syscall(2) with the numbers from <asm/unistd.h>, not kscope's tables.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/perf_event.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static void report(const char *name, long r)
{
    printf("%s %d\n", name, r < 0 ? errno : 0);
}

static int probe(void)
{
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.type = PERF_TYPE_SOFTWARE;
    attr.config = PERF_COUNT_SW_CPU_CLOCK;
    attr.disabled = 1;
    report("perf_event_open", syscall(__NR_perf_event_open, &attr, 0, -1, -1, 0));

    unsigned char params[120] = {0}; // struct io_uring_params, include/uapi/linux/io_uring.h
    report("io_uring_setup", syscall(__NR_io_uring_setup, 1, params));

    unsigned char events[12];
    long r = syscall(__NR_epoll_pwait2, -1, events, 1, NULL, NULL, 0);
    report("epoll_pwait2", r < 0 && errno == EBADF ? 0 : r); // EBADF: the syscall exists

    report("membarrier", syscall(__NR_membarrier, 0 /* MEMBARRIER_CMD_QUERY */, 0, 0));
    report("pidfd_open", syscall(__NR_pidfd_open, getpid(), 0));

    r = syscall(__NR_clone3, NULL, 0);
    report("clone3", r < 0 && errno == EINVAL ? 0 : r); // EINVAL: the syscall exists, nothing cloned

    unsigned char random[16];
    report("getrandom", syscall(__NR_getrandom, random, sizeof random, 1 /* GRND_NONBLOCK */));

    unsigned char stx[256];
    report("statx", syscall(__NR_statx, AT_FDCWD, "/", 0, 0x7ff /* STATX_BASIC_STATS */, stx));

    unsigned int action = SECCOMP_RET_KILL_PROCESS;
    report("seccomp", syscall(__NR_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action));

    report("landlock", syscall(__NR_landlock_create_ruleset, NULL, 0, 1 /* LANDLOCK_CREATE_RULESET_VERSION */));
    return 0;
}

static int seccomp_exec(char **argv)
{
    struct sock_filter allow[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
    struct sock_fprog prog = {.len = 1, .filter = allow};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0)
    {
        perror("seccomp");
        return 1;
    }
    execvp(argv[0], argv);
    perror("execvp");
    return 1;
}

static int hog(long mib)
{
    size_t size = (size_t)mib << 20;
    // volatile: the compiler may not drop writes to memory nobody reads
    volatile char *p = malloc(size);
    if (p == NULL)
    {
        return 1;
    }
    for (size_t i = 0; i < size; i += 4096)
    {
        p[i] = 0x5a;
    }
    printf("ready\n");
    fflush(stdout);
    for (;;)
    {
        pause();
    }
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "probe") == 0)
    {
        return probe();
    }
    if (argc >= 3 && strcmp(argv[1], "seccomp") == 0)
    {
        return seccomp_exec(argv + 2);
    }
    if (argc == 3 && strcmp(argv[1], "hog") == 0)
    {
        return hog(atol(argv[2]));
    }
    fprintf(stderr, "usage: doctorhelper probe | seccomp CMD [ARG...] | hog MIB\n");
    return 64;
}
