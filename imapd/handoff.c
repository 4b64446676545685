/* Handing a logged-in session from imapd to imapd-session.
 *
 * imapd links OpenSSL and libsasl2 (with its plugins) to greet and
 * authenticate; their relocated data and start-up allocations cost every
 * process close to 1 MB that is never shared.  Once a plaintext session
 * has logged in it needs neither, so imapd replaces itself (execv, same
 * pid, same socket) with imapd-session, which links neither:
 *
 *   imapd-session -C <conf> --fd <socket> --session-id <id>
 *                 --user <userid> --authid <authid> [--pending-fd <memfd>]
 *
 * Commands the client pipelined after LOGIN and that imapd already read
 * travel in a memfd.  The store is closed first, so the DB_REGISTER slot
 * is released cleanly and imapd-session joins the environment afresh.
 * TLS sessions stay in imapd: the TLS state cannot cross an exec. */
#define _GNU_SOURCE
#include "commands.h"
#include "../lib/config.h"  /* not the autoconf config.h in the build dir */
#include "log.h"
#include "prot.h"
#include "service.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define SESSION_PROGRAM "imapd-session"

/* imapd-session sits beside imapd (libexec, or the build tree). */
static int session_program(char *path, size_t len)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return -1;
    self[n] = 0;
    char *slash = strrchr(self, '/');
    if (!slash) return -1;
    *slash = 0;
    if ((size_t)snprintf(path, len, "%s/%s", self, SESSION_PROGRAM) >= len) return -1;
    return access(path, X_OK);
}

int handoff_wanted(const struct session *s)
{
    return s->state == ST_AUTH && !prot_is_tls(s->prot) && !prot_is_deflate(s->prot) &&
           s->conn->fd == s->conn->out_fd && config_bool(CONF_IMAP_SESSION_HANDOFF);
}

/* The unread input in a memfd, or -1 when there is none or on error. */
static int pending_fd(struct session *s, int *err)
{
    size_t n = prot_pending(s->prot);
    *err = 0;
    if (!n) return -1;
    int fd = memfd_create("imap-pending", 0);
    if (fd < 0 || write(fd, prot_pending_data(s->prot), n) != (ssize_t)n || lseek(fd, 0, SEEK_SET) != 0) {
        *err = errno ? errno : EIO;
        if (fd >= 0) close(fd);
        return -1;
    }
    return fd;
}

int handoff_exec(struct session *s)
{
    static int unavailable;
    char path[PATH_MAX];
    if (unavailable) return 0;
    if (session_program(path, sizeof path) != 0) {
        log_warn("%s not found beside imapd: serving logged-in sessions in imapd", SESSION_PROGRAM);
        unavailable = 1;
        return 0;
    }
    sess_flush(s);
    if (prot_error(s->prot)) return 1;
    int err, pfd = pending_fd(s, &err);
    if (err) {
        log_warn("cannot pass pipelined input on (%s): the session stays in imapd", strerror(err));
        return 0;
    }
    char fdarg[16], pfdarg[16];
    snprintf(fdarg, sizeof fdarg, "%d", s->conn->fd);
    snprintf(pfdarg, sizeof pfdarg, "%d", pfd);
    char *argv[16];
    int n = 0;
    argv[n++] = (char *)SESSION_PROGRAM;
    argv[n++] = "-C";
    argv[n++] = (char *)config_path();
    argv[n++] = "--fd";
    argv[n++] = fdarg;
    argv[n++] = "--session-id";
    argv[n++] = (char *)s->conn->session_id;
    argv[n++] = "--user";
    argv[n++] = s->userid;
    argv[n++] = "--authid";
    argv[n++] = s->authid;
    if (pfd >= 0) {
        argv[n++] = "--pending-fd";
        argv[n++] = pfdarg;
    }
    argv[n] = NULL;
    /* The socket was accepted close-on-exec; this exec is the one it survives. */
    fcntl(s->conn->fd, F_SETFD, 0);
    log_debug("continuing the session in %s", SESSION_PROGRAM);
    store_close(s->st);
    execv(path, argv);
    /* The store is closed: this process cannot go on.  master starts another. */
    log_error("cannot run %s: %s", path, strerror(errno));
    sess_printf(s, "* BYE [UNAVAILABLE] Server error; please reconnect\r\n");
    sess_flush(s);
    exit(75);
}
