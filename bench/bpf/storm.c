// A syscall storm: getppid() in a loop for N seconds.
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 5;
    time_t end = time(NULL) + (time_t)seconds;
    while (time(NULL) < end)
        for (int i = 0; i < 10000; i++) getppid();
    return 0;
}
