/* durable-files: how many new files a second this disk makes durable, the
 * way a one-file-per-message store writes them: each file created under a
 * new name in one of 256 hashed directories, written, fdatasynced (and its
 * directory fsynced too with --dirsync, as a filesystem that does not make
 * a new name durable with the file needs).  Several processes at once, as
 * concurrent deliveries do.  It is the ceiling for a store's durable
 * deliveries on this disk before any index work, and the CPU it costs.
 *
 *   durable-files DIR [files=4000] [size=4096] [concurrency=16] [--dirsync]
 *
 * DIR must not exist; it is made and left behind (delete it later: on ext4
 * without a journal, files created soon after a big deletion are slow, and
 * a figure taken then says so).  Prints files/s and CPU per file. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "bench_util.h"

/* One new durable file: the name spreads over the 256 directories as a
 * digest's first byte does. */
static int one_file(const char *top, int dirfds[256], int worker, long i, const char *data, size_t size,
                    int dirsync)
{
    unsigned h = (unsigned)(worker * 7919 + i * 104729) & 0xff;
    char path[4200];
    snprintf(path, sizeof path, "%s/%02x/w%d-%ld", top, h, worker, i);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return -1;
    int bad = bench_write_all(fd, data, size) || fdatasync(fd);
    if (close(fd)) bad = 1;
    if (!bad && dirsync && fsync(dirfds[h])) bad = 1;
    return bad ? -1 : 0;
}

static int worker_run(const char *top, int worker, long first, long count, long step, size_t size, int dirsync)
{
    int dirfds[256];
    char path[4200];
    for (int d = 0; d < 256; d++) {
        snprintf(path, sizeof path, "%s/%02x", top, d);
        dirfds[d] = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfds[d] < 0) { perror(path); return 1; }
    }
    char *data = malloc(size ? size : 1);
    if (!data) return 1;
    for (size_t k = 0; k < size; k++) data[k] = (char)('a' + k % 26);
    int rc = 0;
    for (long i = first; i < count; i += step)
        if (one_file(top, dirfds, worker, i, data, size, dirsync)) {
            fprintf(stderr, "durable-files: file %ld: %s\n", i, strerror(errno));
            rc = 1;
            break;
        }
    free(data);
    for (int d = 0; d < 256; d++) close(dirfds[d]);
    return rc;
}

static int make_dirs(const char *top)
{
    if (mkdir(top, 0700)) { fprintf(stderr, "durable-files: %s: %s\n", top, strerror(errno)); return -1; }
    char path[4200];
    for (int d = 0; d < 256; d++) {
        snprintf(path, sizeof path, "%s/%02x", top, d);
        if (mkdir(path, 0700)) { fprintf(stderr, "durable-files: %s: %s\n", path, strerror(errno)); return -1; }
    }
    sync();   /* the directories are not what is measured */
    return 0;
}

int main(int argc, char **argv)
{
    int dirsync = 0, n = 0;
    const char *pos[5] = { 0 };
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--dirsync")) dirsync = 1;
        else if (n < 4) pos[n++] = argv[i];
        else n = 5;
    }
    long count = pos[1] ? atol(pos[1]) : 4000, size = pos[2] ? atol(pos[2]) : 4096;
    long conc = pos[3] ? atol(pos[3]) : 16;
    if (!pos[0] || n > 4 || count < 1 || size < 0 || conc < 1) {
        fprintf(stderr, "usage: durable-files DIR [files=4000] [size=4096] [concurrency=16] [--dirsync]\n");
        return 64;
    }
    if (make_dirs(pos[0])) return 1;
    double t0 = bench_now();
    for (long w = 0; w < conc; w++) {
        pid_t pid = fork();
        if (pid < 0) { perror("fork"); return 1; }
        if (pid == 0) _exit(worker_run(pos[0], (int)w, w, count, conc, (size_t)size, dirsync));
    }
    int failed = 0, status;
    while (wait(&status) > 0)
        if (!WIFEXITED(status) || WEXITSTATUS(status)) failed = 1;
    double secs = bench_now() - t0;
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    double cpu = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    if (failed) { fprintf(stderr, "durable-files: a worker failed\n"); return 1; }
    printf("%ld files of %ld bytes at concurrency %ld%s: %.0f durable files/s, %.3f ms CPU per file\n",
           count, size, conc, dirsync ? " (with directory fsync)" : "", count / secs, 1e3 * cpu / count);
    return 0;
}
