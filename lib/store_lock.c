/* Per-mailbox writer locks: an open-file-description fcntl lock on
 * configdirectory/lock/<uniqueid>.lock.  OFD locks belong to the open file,
 * not the process, are released by the kernel when the holder dies, and do
 * not vanish when another descriptor of the same file is closed. */
#define _GNU_SOURCE 1   /* F_OFD_SETLK */
#include "store_internal.h"
#include "config.h"
#include "log.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void lock_path(struct store *st, const char *uniqueid, char *path, size_t len)
{
    snprintf(path, len, "%s/%s.lock", st->lockdir, uniqueid);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int store_lock_mailbox(struct store *st, const char *uniqueid, int *fd_out)
{
    char path[4200];
    lock_path(st, uniqueid, path, sizeof path);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        log_error("store: open %s: %s", path, strerror(errno));
        return errno == ENOSPC ? STORE_ENOSPC : STORE_EIO;
    }
    double deadline = now_s() + (double)config_int(CONF_LOCK_TIMEOUT);
    long sleep_us = 200;
    for (;;) {
        struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
        if (fcntl(fd, F_OFD_SETLK, &fl) == 0) break;
        if (errno != EAGAIN && errno != EACCES && errno != EINTR) {
            log_error("store: lock %s: %s", path, strerror(errno));
            close(fd);
            return STORE_EIO;
        }
        if (now_s() >= deadline) {
            close(fd);
            return STORE_ELOCKED;
        }
        struct timespec ts = { 0, sleep_us * 1000 };
        nanosleep(&ts, NULL);
        if (sleep_us < 2000) sleep_us *= 2;   /* short: a free lock is noticed soon */
    }
    *fd_out = fd;
    return STORE_OK;
}

void store_unlock_mailbox(int fd)
{
    if (fd >= 0) close(fd);   /* closing the only descriptor drops the OFD lock */
}

void store_lock_remove(struct store *st, const char *uniqueid)
{
    char path[4200];
    lock_path(st, uniqueid, path, sizeof path);
    unlink(path);
}
