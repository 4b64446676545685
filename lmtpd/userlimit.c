/* Per-user delivery slots: OFD byte-range locks on a small per-user file.
 * OFD locks belong to the open file description, so two deliveries in one
 * process conflict like deliveries in two processes, and the kernel drops
 * them when a process dies. */
#define _GNU_SOURCE
#include "userlimit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/config.h"  /* not the autoconf config.h in the build dir */
#include "log.h"

static char lockdir[4096];

int userlimit_init(void)
{
    char base[3800];
    config_dir_path("lock", base, sizeof base);
    if (mkdir(base, 0750) < 0 && errno != EEXIST) return -1;
    snprintf(lockdir, sizeof lockdir, "%s/lmtp", base);
    if (mkdir(lockdir, 0750) < 0 && errno != EEXIST) return -1;
    return 0;
}

/* File name for a user: safe characters kept, anything else %XX. */
static void lock_path(const char *user, char *out, size_t len)
{
    size_t o = (size_t)snprintf(out, len, "%s/", lockdir);
    for (const unsigned char *c = (const unsigned char *)user; *c && o + 4 < len; c++) {
        if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
            *c == '@' || *c == '-' || *c == '_' || (*c == '.' && c != (const unsigned char *)user))
            out[o++] = (char)*c;
        else
            o += (size_t)snprintf(out + o, len - o, "%%%02X", *c);
    }
    out[o] = '\0';
}

int userlimit_acquire(const char *user, int max, struct user_slot *out)
{
    out->fd = -1;
    if (max <= 0) return 1;
    char path[4096 + 1100];
    lock_path(user, path, sizeof path);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
        log_warn("cannot open delivery slot file %s: %s (limit not enforced)", path, strerror(errno));
        return 1;
    }
    for (int i = 0; i < max; i++) {
        struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = i, .l_len = 1};
        if (fcntl(fd, F_OFD_SETLK, &fl) == 0) {
            out->fd = fd;
            return 1;
        }
        if (errno != EAGAIN && errno != EACCES) {
            log_warn("cannot lock delivery slot in %s: %s (limit not enforced)", path, strerror(errno));
            close(fd);
            return 1;
        }
    }
    close(fd);
    return 0;
}

void userlimit_release(struct user_slot *s)
{
    if (s->fd >= 0) close(s->fd);
    s->fd = -1;
}
