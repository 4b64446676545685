/* What the C benchmark programs share: a monotonic clock in seconds, and
 * a write that goes on until every byte is out. */
#ifndef SATCHEL_BENCH_UTIL_H
#define SATCHEL_BENCH_UTIL_H
#include <errno.h>
#include <time.h>
#include <unistd.h>

static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 0 when all n bytes were written, -1 otherwise. */
static inline int bench_write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}
#endif
