/* kscope profile test: a process that execs a different program, which dlopens a library while it is
 * sampled. Built three ways: -DSTAGE=1 (spins in before_exec, then execs argv[1] argv[2]),
 * -DSTAGE=2 (dlopens argv[1] and spins in its lib_spin), -DSTAGE=3 -shared (the library). */
#include <dlfcn.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

#if STAGE == 1
__attribute__((noinline)) void before_exec(double seconds) {
    volatile unsigned long x = 0;
    double end = now() + seconds;
    while (now() < end) for (int i = 0; i < 100000; i++) x += i;
}

int main(int argc, char **argv) {
    if (argc < 3) return 2;
    before_exec(1.0);
    execv(argv[1], argv + 1);
    perror("execv");
    return 1;
}
#elif STAGE == 2
int main(int argc, char **argv) {
    if (argc < 2) return 2;
    void *lib = dlopen(argv[1], RTLD_NOW);
    if (!lib) { fprintf(stderr, "%s\n", dlerror()); return 1; }
    void (*spin)(double) = (void (*)(double))dlsym(lib, "lib_spin");
    if (!spin) return 1;
    spin(1.0);
    dlclose(lib);
    return 0;
}
#else
__attribute__((noinline)) void lib_spin(double seconds) {
    volatile unsigned long x = 0;
    double end = now() + seconds;
    while (now() < end) for (int i = 0; i < 100000; i++) x += i;
}
#endif
