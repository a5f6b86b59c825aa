/* A parent that forks short-lived children, for trace stack tests: each child blocks once for 15 ms in
 * kscope_child_blocks and exits (about 20 ms of life); "exec" mode makes every child exec this program
 * again ("child" argument) before it blocks, so it blocks in a new address space. The parent loops until
 * killed. Frame pointers kept so that bpf_get_stackid can walk the program's own frames. */
#define _GNU_SOURCE
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* the leaf calls poll: libc's poll keeps no frame, so the unwinder skips this function and names its caller */
__attribute__((noinline)) static void wait_once(void)
{
	poll(NULL, 0, 15);
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void kscope_child_blocks(void)
{
	wait_once();
	__asm__ volatile("" ::: "memory");
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "child") == 0) {
		kscope_child_blocks();
		return 0;
	}
	int exec_mode = argc > 1 && strcmp(argv[1], "exec") == 0;
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return 2;
	self[n] = 0;
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		pid_t p = fork();
		if (p < 0)
			return 3;
		if (p == 0) {
			if (exec_mode) {
				execl(self, self, "child", (char *)NULL);
				_exit(4);
			}
			kscope_child_blocks();
			_exit(0);
		}
		waitpid(p, NULL, 0);
		poll(NULL, 0, 30);
	}
}
