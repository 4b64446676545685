/* The child side of master's service protocol (see service.h).
 *
 * Signals: while idle (waiting for a connection) SIGTERM, SIGINT and SIGHUP
 * make the process exit at once, cleanly (store closed, DB_REGISTER slot
 * released).  They are blocked except inside ppoll(), so a signal can never
 * slip in between the check and the wait.  While busy, SIGTERM/SIGINT take
 * their default action (the store is transactional, an interrupted session
 * loses nothing committed), or, for a service with finish_before_stop
 * (lmtpd: a delivery killed between its commit and its reply would be sent
 * again), end the session at its next wait for input.  SIGHUP is ignored
 * while busy: master retires a busy child by closing its status pipe, so
 * the child's next 'A' fails with EPIPE and it exits after finishing the
 * current connection. */
#define _GNU_SOURCE
#include "service.h"
#include "buf.h"
#include "config.h"
#include "log.h"
#include "prot.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define EXIT_CONFIG 75

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* Tell master our state.  No master (EBADF: run by hand) is fine; a closed
 * pipe (EPIPE) means master retired us or is gone. */
static int tell_master(char c)
{
    ssize_t r;
    do r = write(SERVICE_STATUS_FD, &c, 1);
    while (r < 0 && errno == EINTR);
    return (r == 1 || (r < 0 && errno == EBADF)) ? 0 : -1;
}

static void set_handler(int sig, void (*fn)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);   /* no SA_RESTART: ppoll must return EINTR */
}

static void stop_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGHUP);
}

/* The current signal mask with the stop signals let in: the mask of the
 * one wait (ppoll) in which they may arrive. */
static void stop_waitmask(sigset_t *mask)
{
    sigprocmask(SIG_SETMASK, NULL, mask);
    sigdelset(mask, SIGTERM);
    sigdelset(mask, SIGINT);
    sigdelset(mask, SIGHUP);
}

/* Idle: stop signals blocked (delivered only in ppoll) and caught. */
static void signals_idle(void)
{
    sigset_t set;
    stop_signals(&set);
    sigprocmask(SIG_BLOCK, &set, NULL);
    set_handler(SIGTERM, on_stop);
    set_handler(SIGINT, on_stop);
    set_handler(SIGHUP, on_stop);
}

/* Busy, for a service that finishes its work first (finish_before_stop):
 * the stop signals stay blocked, are let in only while a read waits for
 * input, and make it return PROT_STOPPED; SIGHUP is ignored. */
static void signals_busy_finishing(void)
{
    static sigset_t waitmask;
    set_handler(SIGHUP, SIG_IGN);
    stop_waitmask(&waitmask);
    prot_set_stop(&waitmask, &stop_requested);
}

/* Busy: default SIGTERM/SIGINT, SIGHUP ignored (see the top of the file). */
static void signals_busy(void)
{
    set_handler(SIGTERM, SIG_DFL);
    set_handler(SIGINT, SIG_DFL);
    set_handler(SIGHUP, SIG_IGN);
    sigset_t set;
    stop_signals(&set);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
}

static void addr_text(const struct sockaddr_storage *ss, char *buf, size_t len, int *loopback)
{
    *loopback = 0;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &in->sin_addr, buf, (socklen_t)len);
        *loopback = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
            /* Show ::ffff:a.b.c.d as a.b.c.d: that is what operators grep for. */
            inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], buf, (socklen_t)len);
            *loopback = in6->sin6_addr.s6_addr[12] == 127;
        } else {
            inet_ntop(AF_INET6, &in6->sin6_addr, buf, (socklen_t)len);
            *loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
        }
    } else {
        snprintf(buf, len, "unix");
        *loopback = 1;
    }
}

static void fill_conn(struct service_conn *c, int fd)
{
    c->fd = c->out_fd = fd;
    int loop;
    if (c->peer.ss_family != AF_INET && c->peer.ss_family != AF_INET6) {
        memset(&c->peer, 0, sizeof c->peer);
        c->peerlen = 0;
    }
    addr_text(&c->peer, c->peer_ip, sizeof c->peer_ip, &c->is_loopback);
    struct sockaddr_storage local;
    socklen_t ll = sizeof local;
    memset(&local, 0, sizeof local);
    if (getsockname(fd, (struct sockaddr *)&local, &ll) < 0) snprintf(c->local_ip, sizeof c->local_ip, "unknown");
    else addr_text(&local, c->local_ip, sizeof c->local_ip, &loop);
}

static void run_session(struct store *st, const struct service_ops *ops, struct service_conn *c)
{
    if (!c->session_id[0]) log_new_session_id(c->session_id);
    log_set_session(c->session_id);
    log_debug("connection from %s to %s", c->peer_ip, c->local_ip);
    ops->handle(st, c);
    log_set_session(NULL);
    log_set_user(NULL);
    log_set_mailbox(NULL);
}

/* Wait for and accept one connection; -1 when asked to stop or on a fatal
 * error.  Several children may be woken for one connection: the losers get
 * EAGAIN (the listener is non-blocking) and wait again. */
static int wait_accept(struct service_conn *c)
{
    sigset_t waitmask;
    stop_waitmask(&waitmask);
    for (;;) {
        if (stop_requested) return -1;
        struct pollfd p = { .fd = SERVICE_LISTEN_FD, .events = POLLIN };
        int n = ppoll(&p, 1, NULL, &waitmask);
        if (n < 0) {
            if (errno == EINTR) continue;
            log_error("poll on listener: %s", strerror(errno));
            return -1;
        }
        if (p.revents & (POLLERR | POLLNVAL)) {
            log_error("listener socket failed");
            return -1;
        }
        memset(&c->peer, 0, sizeof c->peer);
        c->peerlen = sizeof c->peer;
        int fd = accept4(SERVICE_LISTEN_FD, (struct sockaddr *)&c->peer, &c->peerlen, SOCK_CLOEXEC);
        if (fd >= 0) return fd;
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
            continue;
        /* Out of fds or memory: exit and let master start a fresh process. */
        log_error("accept: %s", strerror(errno));
        return -1;
    }
}

static void serve_loop(struct store *st, const struct service_ops *ops)
{
    long long max_uses = config_int(CONF_MASTER_MAX_USES);   /* 0: no limit */
    for (long long uses = 0; !max_uses || uses < max_uses; uses++) {
        if (tell_master('A') < 0) break;
        struct service_conn c;
        memset(&c, 0, sizeof c);
        int fd = wait_accept(&c);
        if (fd < 0) break;
        if (ops->finish_before_stop) signals_busy_finishing();
        else signals_busy();
        tell_master('B');   /* a failure here means retired: finish this one anyway */
        fill_conn(&c, fd);
        run_session(st, ops, &c);
        close(fd);
        prot_set_stop(NULL, NULL);
        signals_idle();   /* a stop asked for during the session ends the loop at once */
    }
}

static void serve_stdio(struct store *st, const struct service_ops *ops)
{
    struct service_conn c;
    memset(&c, 0, sizeof c);
    c.fd = 0;
    c.out_fd = 1;
    snprintf(c.peer_ip, sizeof c.peer_ip, "stdin");
    snprintf(c.local_ip, sizeof c.local_ip, "stdin");
    c.is_loopback = 1;
    signals_busy();
    run_session(st, ops, &c);
    close(0);
    close(1);
}

/* A connection accepted by the process we were exec'd from (--fd). */
static int serve_handed(struct store *st, const struct service_ops *ops, int fd, const char *session_id)
{
    struct service_conn c;
    memset(&c, 0, sizeof c);
    c.peerlen = sizeof c.peer;
    if (getpeername(fd, (struct sockaddr *)&c.peer, &c.peerlen) < 0) {
        log_error("--fd %d: %s", fd, strerror(errno));
        return 1;
    }
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    signals_busy();
    fill_conn(&c, fd);
    snprintf(c.session_id, sizeof c.session_id, "%s", session_id ? session_id : "");
    run_session(st, ops, &c);
    close(fd);
    return 0;
}

static int have_listener(void)
{
    int on = 0;
    socklen_t len = sizeof on;
    return getsockopt(SERVICE_LISTEN_FD, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 && on;
}

struct service_args {
    const char *conf;
    int stdio_mode;
    int handed_fd;               /* --fd N: serve that connection, then exit */
    const char *session_id;      /* --session-id: keep the log's session id */
};

/* Strip -C FILE, -s, --fd N and --session-id ID from argv; what remains
 * goes to ops->init. */
static char **parse_args(int argc, char **argv, struct service_args *a, int *nrest)
{
    char **rest = xcalloc((size_t)argc + 1, sizeof *rest);
    int n = 0;
    rest[n++] = argv[0];
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-C") && i + 1 < argc) a->conf = argv[++i];
        else if (!strncmp(argv[i], "-C", 2) && argv[i][2]) a->conf = argv[i] + 2;
        else if (!strcmp(argv[i], "-s")) a->stdio_mode = 1;
        else if (!strcmp(argv[i], "--fd") && i + 1 < argc) a->handed_fd = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--session-id") && i + 1 < argc) a->session_id = argv[++i];
        else rest[n++] = argv[i];
    }
    *nrest = n;
    return rest;
}

static int start_service(const struct service_ops *ops, const struct service_args *a, int nrest, char **rest)
{
    struct store *st = NULL;
    int rc = store_open(&st, 0);
    if (rc != STORE_OK) {
        log_error("cannot open the store: %s", store_strerror(rc));
        fprintf(stderr, "%s: cannot open the store: %s\n", ops->name, store_strerror(rc));
        return 1;
    }
    if (ops->init && ops->init(st, nrest, rest) != 0) {
        log_error("initialisation failed");
        store_close(st);
        return 1;
    }
    rc = 0;
    if (a->handed_fd >= 0) rc = serve_handed(st, ops, a->handed_fd, a->session_id);
    else if (a->stdio_mode) serve_stdio(st, ops);
    else serve_loop(st, ops);
    if (ops->shutdown) ops->shutdown(st);
    store_close(st);
    return rc;
}

int service_main(int argc, char **argv, const struct service_ops *ops)
{
    struct service_args a = { CONFIG_DEFAULT_PATH, 0, -1, NULL };
    int nrest = 0;
    char **rest = parse_args(argc, argv, &a, &nrest);
    char err[CONFIG_ERR_MAX];
    if (config_load(a.conf, err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        free(rest);
        return EXIT_CONFIG;
    }
    log_init(ops->name);
    if (!a.stdio_mode && a.handed_fd < 0 && !have_listener()) {
        fprintf(stderr, "%s: no listening socket on fd %d: start me from master, or with -s to serve stdin\n",
                ops->name, SERVICE_LISTEN_FD);
        free(rest);
        return 64;
    }
    /* Keep the listener and status pipe out of programs a service runs. */
    fcntl(SERVICE_LISTEN_FD, F_SETFD, FD_CLOEXEC);
    fcntl(SERVICE_STATUS_FD, F_SETFD, FD_CLOEXEC);
    /* A client that goes away must not kill us with SIGPIPE mid-transaction. */
    signal(SIGPIPE, SIG_IGN);
    signals_idle();
    int rc = start_service(ops, &a, nrest, rest);
    free(rest);
    return rc;
}
