/* lmtpd: LMTP delivery service, run by master (see lmtpd(8)). */
#include <stdlib.h>

#include "auth.h"
#include "log.h"
#include "lmtpd.h"
#include "prot.h"
#include "service.h"

struct lmtpd_globals lmtpd_g;

static int lmtpd_init(struct store *st, int argc, char **argv)
{
    (void)st, (void)argc, (void)argv;
    char err[256];
    if (userlimit_init() < 0) log_warn("cannot create the delivery lock directory: per-user limit not enforced");
    lmtpd_g.auth_ok = auth_init("lmtp") == 0;
    if (!lmtpd_g.auth_ok) log_warn("SASL initialisation failed: AUTH and autocreate by sasldb lookup unavailable");
    err[0] = '\0';
    lmtpd_g.tls = tls_server_ctx(err, sizeof err);
    if (!lmtpd_g.tls && err[0]) log_debug("STARTTLS not offered: %s", err);
    return 0;
}

static void lmtpd_handle(struct store *st, const struct service_conn *conn)
{
    lmtp_session(st, conn);
    /* The environment needs recovery: let master start a fresh process. */
    if (lmtpd_g.panic) {
        log_error("store reported a panic: exiting for recovery");
        exit(75);
    }
}

static void lmtpd_shutdown(struct store *st)
{
    (void)st;
    if (lmtpd_g.tls) SSL_CTX_free(lmtpd_g.tls);
    if (lmtpd_g.auth_ok) auth_done();
}

int main(int argc, char **argv)
{
    static const struct service_ops ops = {
        .name = "lmtpd",
        .init = lmtpd_init,
        .handle = lmtpd_handle,
        .shutdown = lmtpd_shutdown,
        .finish_before_stop = 1,   /* a delivery ends with its reply, then 421 */
    };
    return service_main(argc, argv, &ops);
}
