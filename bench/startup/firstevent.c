// firstevent: launch a tracer on a pseudo-terminal (as a user at a terminal sees it: line-buffered
// output for C tools and kscope alike), open MARKER every millisecond from a second thread, and print
// the milliseconds from just before fork() to the moment a line naming MARKER arrives on the terminal.
// Then the tracer gets SIGINT (SIGKILL after 10 s) and is reaped; its exit does not count.
//   firstevent MARKER -- TRACER [ARGS...]
// Exit 0 with the figure on stdout; 1 when the tracer ended (or 20 s passed) without naming MARKER.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pty.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *marker;
static atomic_int stop;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void *trigger(void *arg)
{
    (void)arg;
    struct timespec ms = {0, 1000000};
    while (!atomic_load(&stop)) {
        int fd = open(marker, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) close(fd);
        nanosleep(&ms, NULL);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 4 || strcmp(argv[2], "--") != 0) {
        fprintf(stderr, "usage: firstevent MARKER -- TRACER [ARGS...]\n");
        return 2;
    }
    marker = argv[1];
    int fd = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) { perror(marker); return 2; }
    close(fd);
    struct winsize ws = {.ws_row = 50, .ws_col = 200};
    int master;
    double t0 = now_ms();
    pid_t pid = forkpty(&master, NULL, NULL, &ws);
    if (pid < 0) { perror("forkpty"); return 2; }
    if (pid == 0) {
        execvp(argv[3], argv + 3);
        perror(argv[3]);
        _exit(127);
    }
    pthread_t thread;
    pthread_create(&thread, NULL, trigger, NULL);
    char buf[1 << 16];
    size_t len = 0;
    double found = -1;
    fcntl(master, F_SETFL, O_NONBLOCK);
    while (found < 0 && now_ms() - t0 < 20000) {
        ssize_t n = read(master, buf + len, sizeof buf - 1 - len);
        if (n > 0) {
            len += (size_t)n;
            buf[len] = 0;
            if (strstr(buf, marker)) { found = now_ms() - t0; break; }
            char *nl = strrchr(buf, '\n'); // keep only the unfinished last line
            if (nl) { len = strlen(nl + 1); memmove(buf, nl + 1, len + 1); }
            if (len > sizeof buf / 2) len = 0;
        } else if (n < 0 && errno == EAGAIN) {
            struct timespec t = {0, 200000};
            nanosleep(&t, NULL);
        } else {
            break; // EIO: the tracer closed the terminal (it ended)
        }
    }
    atomic_store(&stop, 1);
    pthread_join(thread, NULL);
    kill(pid, SIGINT);
    double deadline = now_ms() + 10000;
    int status;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (now_ms() > deadline) kill(pid, SIGKILL);
        (void)!read(master, buf, sizeof buf);
        struct timespec t = {0, 1000000};
        nanosleep(&t, NULL);
    }
    close(master);
    unlink(marker);
    if (found < 0) { fprintf(stderr, "firstevent: %s never named %s\n", argv[3], marker); return 1; }
    printf("%.1f\n", found);
    return 0;
}
