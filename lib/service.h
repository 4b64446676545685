/* The child side of master's service protocol, shared by imapd, lmtpd and
 * syncd.  master binds every listener itself and starts a service as
 *   <cmd> [args from master.conf] -C <satchel.conf>
 * with the listening socket on fd SERVICE_LISTEN_FD and a status pipe to
 * master on fd SERVICE_STATUS_FD.  The child loads the config, opens the
 * store, then accepts connections one at a time, telling master on the
 * status pipe when it is busy ('B') and available again ('A'), and exits
 * after master_max_uses connections (master replaces it).
 *
 * For tests and debugging a service can also be run without master:
 *   <cmd> -C satchel.conf -s   (serve one session on stdin/stdout)
 * A service process may hand a connection it accepted to another program
 * by exec (imapd -> imapd-session after login):
 *   <cmd> -C satchel.conf --fd N [--session-id ID] [args]
 * serves the connected socket N (which keeps the log's session id), then
 * exits; master sees the same pid go on and end. */
#ifndef SATCHEL_SERVICE_H
#define SATCHEL_SERVICE_H
#include <sys/socket.h>
#include "store.h"

#define SERVICE_LISTEN_FD 3
#define SERVICE_STATUS_FD 4

struct service_conn {
    int fd;                          /* connected socket (or stdin) */
    int out_fd;                      /* same as fd, or stdout with -s */
    struct sockaddr_storage peer;    /* zeroed for unix sockets / stdin */
    socklen_t peerlen;
    char peer_ip[64];                /* "127.0.0.1", "unix" or "stdin" */
    char local_ip[64];
    int is_loopback;                 /* 127/8, ::1, unix socket or stdin */
    char session_id[16];             /* also set in the log context */
};

struct service_ops {
    const char *name;                /* "imapd", "lmtpd" ... (log prefix) */
    /* once per process, after config + store are ready; non-zero aborts */
    int (*init)(struct store *st, int argc, char **argv);
    /* one connection; the fds are closed by the caller afterwards */
    void (*handle)(struct store *st, const struct service_conn *conn);
    void (*shutdown)(struct store *st);
    /* 0: while a session runs, SIGTERM/SIGINT take their default action.
     * 1: they only ask the session to end when it next waits for input:
     * reads then return PROT_STOPPED (prot_set_stop), the protocol says
     * goodbye, and the process exits.  master kills a process that does
     * not stop within master_shutdown_grace. */
    int finish_before_stop;
};

/* Parses -C FILE (default CONFIG_DEFAULT_PATH) and -s, loads the config
 * (printing "file:line: reason" and exiting 75 on error), initialises
 * logging and the store, runs the accept loop.  Returns the exit code. */
int service_main(int argc, char **argv, const struct service_ops *ops);
#endif
