/* imapd: the IMAP service master starts.  It greets, offers STARTTLS or
 * implicit TLS (imaps) and authenticates (SASL); a logged-in plaintext
 * session is then handed to imapd-session (handoff.c), which carries none
 * of TLS, SASL or their libraries.  TLS sessions, or all of them when
 * imap_session_handoff is off, are served here to the end. */
#define _GNU_SOURCE
#include "commands.h"
#include "auth.h"
#include "../lib/config.h"  /* not the autoconf config.h in the build dir */
#include "log.h"
#include "prot.h"
#include "service.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int implicit_tls;

/* After each command: a session that has just logged in moves on. */
static int after_command(struct session *s)
{
    if (!handoff_wanted(s)) return 0;
    return handoff_exec(s);
}

static void handle(struct store *st, const struct service_conn *conn)
{
    struct prot *p = prot_new(conn->fd, conn->out_fd);
    struct session *s = session_new(st, conn, p);
    char err[256];
    s->tls_ctx = tls_server_ctx(err, sizeof err);
    s->implicit_tls = implicit_tls;
    log_info("connection from %s%s", conn->peer_ip, implicit_tls ? " (imaps)" : "");
    if (implicit_tls && (!s->tls_ctx || prot_starttls(p, s->tls_ctx) != 0)) {
        log_notice("implicit TLS failed: %s", s->tls_ctx ? "handshake" : err);
    } else {
        imap_greet(s);
        imap_command_loop(s, after_command);
    }
    if (s->tls_ctx) tls_ctx_free(s->tls_ctx);
    imap_session_finish(s);
}

static int init(struct store *st, int argc, char **argv)
{
    (void)st;
    /* Our own arguments from master.conf: --tls (or -T) for imaps. */
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--tls") == 0 || strcmp(argv[i], "-T") == 0) implicit_tls = 1;
    if (auth_init("imap") != 0) {
        log_error("SASL initialisation failed");
        return -1;
    }
    imap_preauth = &imap_sasl_preauth;
    return 0;
}

static void shutdown_service(struct store *st)
{
    (void)st;
    auth_done();
}

int main(int argc, char **argv)
{
    static const struct service_ops ops = {"imapd", init, handle, shutdown_service, 0};
    return service_main(argc, argv, &ops);
}
